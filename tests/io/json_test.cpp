#include "flowlab/io/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/helpers.h"

namespace flowlab::io {
namespace {

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_quote("plain"), "\"plain\"");
  EXPECT_EQ(json_quote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(json_quote("c:\\runs"), "\"c:\\\\runs\"");
  EXPECT_EQ(json_quote("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 passes through
}

TEST(Json, ObjectKeepsOrderWritesIntegersExactlyAndReplacesRepeatedKeys) {
  JsonObject o;
  o.add("b", 1).add("a", int64_t{9007199254740993}).add("ok", true).add("name", "x").add("b", 2);
  EXPECT_EQ(o.str(), "{\"b\": 2, \"a\": 9007199254740993, \"ok\": true, \"name\": \"x\"}");
  JsonArray list(std::vector<double>{0.5, 2});
  list.push(JsonObject().add("k", "v"));
  EXPECT_EQ(JsonObject().add("list", list).str(), "{\"list\": [0.5, 2, {\"k\": \"v\"}]}");
}

// Python's json module is the reader that matters: it must read back every value,
// including NaN and infinities and every escaped character.
TEST(Json, PythonJsonReadsEverythingBack) {
  const std::string tricky = std::string("q\"b\\s/n\nt\tc\x01\x7f end");
  JsonObject o;
  o.add("text", tricky)
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", std::numeric_limits<double>::infinity())
      .add("minus_inf", -std::numeric_limits<double>::infinity())
      .add("x", 0.1)
      .add("n", -3)
      .add(std::string("key \"quoted\""), JsonArray(std::vector<std::string>{"a", "b\\"}));
  testing::TempDir dir;
  const std::string file = dir.file("out.json");
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_TRUE(f);
    std::fputs(o.str().c_str(), f);
    std::fclose(f);
  }
  const std::string out = testing::run_python(
      "import json, math\n"
      "d = json.load(open('" + file + "'))\n"
      "assert d['text'] == 'q\"b\\\\s/n\\nt\\tc\\x01\\x7f end', repr(d['text'])\n"
      "assert math.isnan(d['nan']) and d['inf'] == math.inf and d['minus_inf'] == -math.inf\n"
      "assert d['x'] == 0.1 and d['n'] == -3 and d['key \"quoted\"'] == ['a', 'b\\\\']\n"
      "print('ok')\n");
  EXPECT_NE(out.find("ok"), std::string::npos) << out;
}

}  // namespace
}  // namespace flowlab::io
