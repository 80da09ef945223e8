// Differential test, Hugging Face side: generates seeded random texts and encodes them with the
// `tokenizers` npm package (the Node binding of Hugging Face's Rust tokenizers) for every
// tokenizer.json under SHARED/models/*/*-hf. Writes one JSON object per line:
//   {"folder": ".../x-hf", "text": "...", "ids": [...], "decoded": "..."}
// ids: encode(text, addSpecialTokens = false); decoded: decode(ids, skipSpecialTokens = false).
//
// Usage: node generate.js SHARED_DIR OUT_FILE [COUNT_PER_TOKENIZER] [SEED]
// Exit 0 on success, 77 when the tokenizers package cannot be loaded, 1 on other errors.
'use strict';
const fs = require('fs');
const path = require('path');

let Tokenizer;
try {
  ({ Tokenizer } = require('tokenizers'));
} catch (e) {
  console.log(`skipped: the tokenizers package cannot be loaded: ${e.message.split('\n')[0]}`);
  process.exit(77);
}

const [sharedDir, outFile, countArg, seedArg] = process.argv.slice(2);
if (!sharedDir || !outFile) {
  console.error('usage: node generate.js SHARED_DIR OUT_FILE [COUNT] [SEED]');
  process.exit(1);
}
const count = Number(countArg || 3000);
const seed = Number(seedArg || 20260726);

// mulberry32: small, seeded, the same on every machine.
function rng(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['the', 'The', 'a', 'cat', 'dog', 'Lily', 'park', 'time', 'upon', 'Once', 'little', 'girl', 'ran',
  'HELLO', 'world', 'World', 'tokenizer', 'tokenization', 'Hugging', 'Face', 'llama', 'cpp', 'Qwen', 'naïve',
  'café', 'Äpfel', 'straße', 'über', 'don\'t', 'it\'s', 'we\'ll', 'they\'re', 'I\'ve', 'she\'d', 'I\'m',
  'IT\'S', 'WE\'LL', 'O\'Neil', 'rock\'n\'roll', 'x', 'y', 'zzz', 'ABC', 'camelCase', 'snake_case', 'kebab-case',
  'привет', 'мир', 'Ελληνικά', 'مرحبا', 'שלום', 'สวัสดี', 'नमस्ते', 'កាន់តែពិសេស', 'ᏣᎳᎩ'];
const SPACES = [' ', ' ', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '          ',
  '\n\n\n\n', '\t\t', ' \t', '\u200b', '\u2028'];
const PUNCT = ['.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '{', '}', '"', '\'', '-', '_', '/', '\\', '@', '#',
  '$', '%', '^', '&', '*', '+', '=', '<', '>', '|', '~', '`', '...', '—', '–', '«', '»', '¿', '¡', '!!!', '?!',
  '->', '::', '</', '/>', '#!'];
const EMOJI = ['🦙', '🚀', '😀', '😶‍🌫️', '👍🏽', '👨‍👩‍👧‍👦', '✅', '❤️', '🇫🇷', '🙂', '🤖', '☕'];
const CJK = ['日本語', 'のテキスト', '中文字符', '我想在apple工作', '한국어', 'カタカナ', 'ひらがな', '天～', '龥', '𠀀'];
const COMBINING = ['e\u0301', 'a\u0308', 'n\u0303', 'o\u0302\u0323', 'A\u030a', '\u0915\u094d\u0937', 'e\u0301\u0301',
  '\u0301', 'ﬁ', 'Å', 'Ω', 'x\u0327'];
const SPECIAL = ['<|endoftext|>', '<s>', '</s>', '<unk>', '<|im_end|>', '<|im_start|>', '<0x41>', '<|end|>'];
const CODE = ['def f(x):\n    return x**2', 'int main() { return 0; }', '    if (a && b) {\n        c++;\n    }',
  'for i in range(10):\n\tprint(i)', '{"key": [1, 2.5, null]}', '<div class="a">x</div>', 'SELECT * FROM t;'];

function generate(r) {
  const pick = (list) => list[Math.floor(r() * list.length)];
  const number = () => {
    const n = 1 + Math.floor(r() * 12);
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(r() * 10));
    const k = r();
    return k < 0.1 ? s + '.' + String(Math.floor(r() * 1000)) : k < 0.15 ? s.replace(/(\d)(?=(\d{3})+$)/g, '$1,') : s;
  };
  const parts = 1 + Math.floor(r() * 12);
  let text = '';
  for (let i = 0; i < parts; i++) {
    const k = r();
    let piece;
    if (k < 0.30) piece = pick(WORDS);
    else if (k < 0.42) piece = pick(SPACES);
    else if (k < 0.52) piece = number();
    else if (k < 0.64) piece = pick(PUNCT);
    else if (k < 0.71) piece = pick(EMOJI);
    else if (k < 0.78) piece = pick(CJK);
    else if (k < 0.86) piece = pick(COMBINING);
    else if (k < 0.89) piece = pick(SPECIAL);
    else if (k < 0.93) piece = pick(CODE);
    else piece = pick(WORDS).toUpperCase();
    const sep = r();
    text += piece + (sep < 0.55 ? ' ' : sep < 0.65 ? pick(SPACES) : '');
  }
  if (r() < 0.2) text = ' ' + text;  // leading space
  if (r() < 0.1) text = text.trimEnd();
  return text;
}

async function main() {
  const modelsDir = path.join(sharedDir, 'models');
  const folders = [];
  for (const family of fs.readdirSync(modelsDir).sort()) {
    const familyDir = path.join(modelsDir, family);
    if (!fs.statSync(familyDir).isDirectory()) continue;
    for (const entry of fs.readdirSync(familyDir).sort()) {
      const dir = path.join(familyDir, entry);
      if (entry.endsWith('-hf') && fs.existsSync(path.join(dir, 'tokenizer.json'))) folders.push(dir);
    }
  }
  if (folders.length === 0) {
    console.log(`skipped: no */*-hf/tokenizer.json under ${modelsDir}`);
    process.exit(77);
  }
  const out = fs.openSync(outFile, 'w');
  for (const folder of folders) {
    const tok = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
    const r = rng(seed);  // the same texts for every tokenizer
    for (let i = 0; i < count; i++) {
      const text = generate(r);
      const enc = await tok.encode(text, null, { addSpecialTokens: false });
      const ids = Array.from(enc.getIds());
      const decoded = await tok.decode(ids, false);
      fs.writeSync(out, JSON.stringify({ folder, text, ids, decoded }) + '\n');
    }
    console.log(`${folder}: ${count} texts encoded by Hugging Face tokenizers`);
  }
  fs.closeSync(out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
