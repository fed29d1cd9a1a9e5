#pragma once
// The server layer's precompiled header (see common/precompiled.hpp): cpp-httplib besides, the
// largest header of the build.
#include "common/precompiled.hpp"

#include <httplib.h>
