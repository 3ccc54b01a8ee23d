/* What build.rs runs bindgen over: libva's driver interface (libva-dev). */
#include <va/va.h>
#include <va/va_backend.h>
#include <va/va_drmcommon.h>
