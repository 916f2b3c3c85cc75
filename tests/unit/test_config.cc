#include "config/yaml_loader.h"

#include <gtest/gtest.h>

using pinhole::config::check_yaml_file;
using pinhole::config::check_yaml_text;

TEST(YamlLoader, AcceptsAWellFormedNodeFile) {
    EXPECT_FALSE(check_yaml_file(PINHOLE_TEST_DATA_DIR "/node-ok.yaml").has_value());
}

TEST(YamlLoader, NamesFileLineAndColumnOfASyntaxError) {
    const auto error = check_yaml_file(PINHOLE_TEST_DATA_DIR "/node-bad-indent.yaml");
    ASSERT_TRUE(error.has_value());
    EXPECT_NE(error->file.find("node-bad-indent.yaml"), std::string::npos);
    EXPECT_EQ(error->line, 4);  // " web:" is indented one space too little
    EXPECT_GT(error->column, 0);
    EXPECT_NE(error->to_string().find("node-bad-indent.yaml:4:"), std::string::npos);
}

TEST(YamlLoader, RejectsATopLevelThatIsNotAMapping) {
    const auto error = check_yaml_text("list.yaml", "- a\n- b\n");
    ASSERT_TRUE(error.has_value());
    EXPECT_NE(error->message.find("mapping"), std::string::npos);
}

TEST(YamlLoader, ReportsAMissingFileWithoutAPosition) {
    const auto error = check_yaml_file("/nonexistent/pinhole.yaml");
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->line, 0);
    EXPECT_NE(error->message.find("cannot open"), std::string::npos);
}

TEST(YamlLoader, SurvivesGarbage) {
    const char garbage[] = {'\x00', '\xff', '[', '{', ':', '\n', '\t', '&', '*', '!'};
    EXPECT_TRUE(check_yaml_text("garbage", std::string_view(garbage, sizeof garbage)).has_value());
}
