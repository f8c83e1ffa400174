package io.tollgate.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admin API's request bodies: flat JSON objects, anything else refused with a reason. */
class FlatJsonTest {
  @Test
  void readsStringsWholeNumbersBooleansAndNull() {
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("address", "[::1]:443");
    expected.put("weight", 2L);
    expected.put("backup", false);
    expected.put("note", null);
    expected.put("esc", "a\"b\\c\u00e9");
    assertThat(
            FlatJson.parse(
                " {\"address\": \"[::1]:443\", \"weight\":2,\"backup\" :false, \"note\": null,"
                    + " \"esc\": \"a\\\"b\\\\c\\u00e9\"} "))
        .containsExactlyEntriesOf(expected);
    assertThat(FlatJson.parse("{}")).isEmpty();
  }

  @Test
  void refusesWhatIsNotAFlatObject() {
    for (String bad :
        new String[] {
          "",
          "[]",
          "{\"a\": [1]}",
          "{\"a\": {}}",
          "{\"a\": 1.5}",
          "{\"a\": 1} x",
          "{\"a\" 1}",
          "{\"a\": 1, \"a\": 2}",
          "{\"a\": \"x",
          "{a: 1}"
        }) {
      assertThatThrownBy(() -> FlatJson.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("bad JSON at character ");
    }
  }
}
