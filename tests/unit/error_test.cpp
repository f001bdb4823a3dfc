// osprey::Error's messages print as one readable line whatever bytes they
// quote: control characters and bytes outside valid UTF-8 become \xNN.
#include <gtest/gtest.h>

#include "core/error.h"

namespace osprey {
namespace {

TEST(Printable, KeepsTextAndValidUtf8) {
  for (const char* text :
       {"", "plain ASCII: conv_2d #3 [1, 224, 224, 3]", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
        "\xf0\x9f\x90\xa6 osprey", "\xc2\xa0nbsp", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"})
    EXPECT_EQ(printable(text), text);
}

TEST(Printable, EscapesControlsAndBadBytes) {
  EXPECT_EQ(printable("Cons\x1f"
                      "ant"),
            "Cons\\x1fant");
  EXPECT_EQ(printable("two\nlines\r"), "two\\x0alines\\x0d");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");  // a terminal escape
  EXPECT_EQ(printable("tab\tDEL\x7f"), "tab\\x09DEL\\x7f");
  EXPECT_EQ(printable("v\xfdlue"), "v\\xfdlue");                     // not a lead byte
  EXPECT_EQ(printable("Bat\xb9hNorm"), "Bat\\xb9hNorm");             // a lone continuation byte
  EXPECT_EQ(printable("cut \xe4\xb8"), "cut \\xe4\\xb8");            // a sequence cut short
  EXPECT_EQ(printable("\xc0\x80"), "\\xc0\\x80");                    // overlong NUL
  EXPECT_EQ(printable("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");           // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(printable("\xc2\x9b"
                      "2J"),
            "\\xc2\\x9b2J");  // C1 CSI
  EXPECT_EQ(printable(std::string("nul\0byte", 8)), "nul\\x00byte");
}

TEST(Printable, ErrorsCarryThePrintableForm) {
  try {
    fail("No Op registered for {} with domain_version of 9", "Constan\xa0\n");
    FAIL() << "fail() returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "No Op registered for Constan\\xa0\\x0a with domain_version of 9");
  }
}

}  // namespace
}  // namespace osprey
