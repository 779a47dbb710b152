#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "service/artifacts.h"

namespace codeq {
namespace {

TEST(Artifacts, NameRules) {
  EXPECT_TRUE(IsValidArtifactName("report.pdf"));
  EXPECT_FALSE(IsValidArtifactName(""));
  EXPECT_FALSE(IsValidArtifactName("../x"));
  EXPECT_FALSE(IsValidArtifactName("a/b"));
  EXPECT_FALSE(IsValidArtifactName("a\\b"));
  EXPECT_FALSE(IsValidArtifactName(".."));
  EXPECT_FALSE(IsValidArtifactName("."));  // the task's own directory
  EXPECT_TRUE(IsValidArtifactName(std::string(255, 'n')));
  EXPECT_FALSE(IsValidArtifactName(std::string(256, 'n')));
}

TEST(Artifacts, Base64WithAndWithoutPadding) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(*DecodeBase64("aGk"), "hi");
  EXPECT_EQ(*DecodeBase64("AAEC"), std::string("\0\1\2", 3));
  EXPECT_FALSE(DecodeBase64("a$b!").ok());
  EXPECT_FALSE(DecodeBase64("a===").ok());
  EXPECT_EQ(*DecodeBase64(""), "");
  // '=' only as final padding, completing a 4-character quantum; nothing outside the alphabet.
  for (const char* bad : {"aGk=aGk=", "aG=k", "YQ==YQ==", "aGVsbG8==", "YQ===", "a", "a=", "aGVs\nbG8=",
                          " aGk=", "aGk= ", "aGk-", "aGk_"}) {
    auto r = DecodeBase64(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().message(), "illegal base64 data");
  }
  EXPECT_EQ(*DecodeBase64("YQ=="), "a");
  EXPECT_EQ(*DecodeBase64("YQ"), "a");
  EXPECT_EQ(*DecodeBase64("YQ="), "a");  // partial padding is completed (SPEC §2.8)
  EXPECT_EQ(*DecodeBase64("YWI="), "ab");
}

// The temporary file's name does not grow with the artifact's, so a 255-byte name can be written.
TEST(Artifacts, WritesTheLongestAllowedName) {
  auto dir = std::filesystem::temp_directory_path() / ("codeq-art-long-" + std::to_string(::getpid()));
  const std::string name(255, 'n');
  auto path = WriteArtifactFile(dir.string(), "task-1", name, "x");
  EXPECT_TRUE(path.ok()) << path.status().message();
  EXPECT_TRUE(std::filesystem::exists(dir / "results" / "task-1" / name));
  std::filesystem::remove_all(dir);
}

TEST(Artifacts, WritesAtomicallyUnderResultsDir) {
  auto dir = std::filesystem::temp_directory_path() / ("codeq-art-" + std::to_string(::getpid()));
  auto path = WriteArtifactFile(dir.string(), "task-1", "out.bin", std::string("\0xyz", 4));
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_EQ(*path, (dir / "results" / "task-1" / "out.bin").string());
  std::ifstream f(*path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), std::string("\0xyz", 4));
  // Overwrite replaces the content; no temporary files are left behind.
  ASSERT_TRUE(WriteArtifactFile(dir.string(), "task-1", "out.bin", "new").ok());
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "results" / "task-1")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace codeq
