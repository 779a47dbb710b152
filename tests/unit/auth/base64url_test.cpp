// base64url encoding: round trips and strict rejection.
#include "auth/base64url.h"

#include <gtest/gtest.h>

#include <random>

namespace codeq {
namespace {

TEST(Base64UrlTest, KnownVectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(Base64UrlDecode("-_-_").value(), "\xfb\xff\xbf");
  EXPECT_EQ(Base64UrlDecode("Zg").value(), "f");
  EXPECT_EQ(Base64UrlDecode("").value(), "");
}

TEST(Base64UrlTest, RandomRoundTrips) {
  std::mt19937 rng(42);
  for (size_t len = 0; len < 70; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    std::string enc = Base64UrlEncode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << len;
    EXPECT_EQ(*dec, bytes);
  }
}

TEST(Base64UrlTest, RejectsNonUrlAlphabetPaddingAndWhitespace) {
  EXPECT_FALSE(Base64UrlDecode("+/+/"));
  EXPECT_FALSE(Base64UrlDecode("Zg=="));
  EXPECT_FALSE(Base64UrlDecode("Zm 9v"));
  EXPECT_FALSE(Base64UrlDecode("Zm9v\n"));
  EXPECT_FALSE(Base64UrlDecode("Z"));       // length % 4 == 1
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));   // length % 4 == 1
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)));
  EXPECT_FALSE(Base64UrlDecode("Zm9v!"));
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(Base64UrlDecode("QQ"));   // "A"
  EXPECT_FALSE(Base64UrlDecode("QR"));  // same byte with stray low bits
  EXPECT_FALSE(Base64UrlDecode("Zm9"));  // "fo" is spelled Zm8
  EXPECT_TRUE(Base64UrlDecode("Zm8"));
}

}  // namespace
}  // namespace codeq
