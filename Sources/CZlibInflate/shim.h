#ifndef CZLIBINFLATE_SHIM_H
#define CZLIBINFLATE_SHIM_H
#include <zlib.h>
#include "crc32_fold.h"
#endif
