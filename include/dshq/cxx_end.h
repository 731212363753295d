/* cxx_end.h — closes what dshq/cxx_begin.h opened (no include guard). */
#ifdef __cplusplus
}
#pragma pop_macro("_Static_assert")
#pragma pop_macro("_Atomic")
#endif
