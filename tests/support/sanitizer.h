// Whether this test binary is built with AddressSanitizer: tests that quantize
// or run real models take seconds in the release build and minutes under the
// sanitizers, so they run in the release build only.
#pragma once

namespace osprey::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace osprey::test
