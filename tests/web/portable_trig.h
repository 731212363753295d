/* portable_trig.h — forced into src/rl/env.c for the cross-build env test
 * (tests/web/env_trace.c): the kickoff's cosf/sinf through double cos/sin
 * rounded to float, so glibc (native) and musl (Emscripten) agree.  Their
 * float cosf/sinf differ in the last bit for some arguments; docs/env.md. */
#include <math.h>
#define cosf(x) ((float)cos((double)(x)))
#define sinf(x) ((float)sin((double)(x)))
