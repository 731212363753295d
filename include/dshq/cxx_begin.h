/* cxx_begin.h — opens the declarations of a libdshq header for C++.
 *
 * No include guard: every public header includes it after its own #includes,
 * and dshq/cxx_end.h before its #endif.  In C it does nothing.  In C++ it
 * opens extern "C" and, until cxx_end.h restores them, lets the headers' C11
 * spellings through:
 *   _Atomic T       -> T.  The shared structs are ABI byte maps: a lock-free
 *                      _Atomic T has the size, alignment and representation
 *                      of T (asserted by the structs' offsets), so C++ code
 *                      sees the same layout; it must reach those fields
 *                      through the library's functions, never directly.
 *   _Static_assert  -> static_assert.
 * push_macro/pop_macro keep a C++ program's own _Atomic (C++23 stdatomic.h)
 * untouched outside our headers. */
#ifdef __cplusplus
#include <atomic> /* ATOMIC_*_LOCK_FREE, asserted by the headers */
#pragma push_macro("_Atomic")
#pragma push_macro("_Static_assert")
#undef _Atomic
#undef _Static_assert
#define _Atomic
#define _Static_assert static_assert
extern "C" {
#endif
