// The YAML layer: well-formedness, positions, and what is refused before the schema looks.
#include <gtest/gtest.h>

#include <string>

#include "config/load.h"
#include "config/yaml_loader.h"

using pinhole::config::check_yaml_file;
using pinhole::config::check_yaml_text;
using pinhole::config::load_gateway_config_from_text;
using pinhole::config::load_node_config_from_text;
using pinhole::config::max_config_file_bytes;
using pinhole::config::parse_yaml_tree;
using pinhole::config::YamlNode;
using pinhole::config::YamlTree;

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

TEST(YamlTree, KeepsPositionsOfKeysAndValues) {
    YamlTree tree;
    ASSERT_FALSE(parse_yaml_tree("t.yaml", "a: 1\nb:\n  - x\n  - \"y z\"\n", tree).has_value());
    const YamlNode& root = tree.nodes[0];
    ASSERT_EQ(root.kind, YamlNode::Kind::mapping);
    ASSERT_EQ(root.children.size(), 4u);
    const YamlNode& b = tree.child(root, 2);
    EXPECT_EQ(b.text, "b");
    EXPECT_EQ(b.line, 2);
    EXPECT_EQ(b.column, 1);
    const YamlNode& list = tree.child(root, 3);
    ASSERT_EQ(list.kind, YamlNode::Kind::sequence);
    const YamlNode& quoted = tree.child(list, 1);
    EXPECT_EQ(quoted.text, "y z");
    EXPECT_EQ(quoted.line, 4);
    EXPECT_EQ(quoted.column, 5);
}

TEST(YamlTree, PlacesAnEmptyValueAtItsKeyOrDash) {
    YamlTree tree;
    ASSERT_FALSE(parse_yaml_tree("t.yaml", "list:\n  -\n  - a\nempty:\n", tree).has_value());
    const YamlNode& root = tree.nodes[0];
    const YamlNode& empty_item = tree.child(tree.child(root, 1), 0);
    EXPECT_EQ(empty_item.kind, YamlNode::Kind::null);
    EXPECT_EQ(empty_item.line, 2);
    EXPECT_EQ(empty_item.column, 3);
    const YamlNode& empty_value = tree.child(root, 3);
    EXPECT_EQ(empty_value.kind, YamlNode::Kind::null);
    EXPECT_EQ(empty_value.line, 4);
    EXPECT_EQ(empty_value.column, 1);
}

TEST(YamlTree, RefusesAliasesAndASecondDocument) {
    YamlTree tree;
    const auto alias = parse_yaml_tree("t.yaml", "a: &x 1\nb: *x\n", tree);
    ASSERT_TRUE(alias.has_value());
    EXPECT_EQ(alias->line, 2);
    EXPECT_NE(alias->message.find("aliases (*name) are not supported"), std::string::npos);
    const auto second = parse_yaml_tree("t.yaml", "a: 1\n---\nb: 2\n", tree);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->line, 2);
    EXPECT_NE(second->message.find("a config file holds exactly one"), std::string::npos);
}

TEST(YamlTree, SurvivesDeepNesting) {
    const std::string deep = "a: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
    YamlTree tree;
    EXPECT_TRUE(parse_yaml_tree("deep.yaml", deep, tree).has_value());  // yaml-cpp's depth limit
    EXPECT_FALSE(load_node_config_from_text("deep.yaml", deep).ok());
}

TEST(YamlLoader, RefusesTextLargerThanAConfigCanBe) {
    const std::string huge(max_config_file_bytes + 1, '#');
    const auto result = load_node_config_from_text("huge.yaml", huge);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("larger than 1 MiB"), std::string::npos);
}

TEST(YamlLoader, LoadersSurviveGarbage) {
    const char garbage[] = {'\x00', '\xff', '[', '{', ':', '\n', '\t', '&', '*', '!', '-', '?'};
    for (std::size_t length = 0; length <= sizeof garbage; ++length) {
        const std::string_view text(garbage, length);
        EXPECT_FALSE(load_node_config_from_text("garbage", text).ok());
        EXPECT_FALSE(load_gateway_config_from_text("garbage", text).ok());
    }
}
