// slm: the whole public API.
#pragma once

#include "slm/error.h"     // IWYU pragma: export
#include "slm/model.h"     // IWYU pragma: export
#include "slm/sampling.h"  // IWYU pragma: export
#include "slm/session.h"   // IWYU pragma: export
