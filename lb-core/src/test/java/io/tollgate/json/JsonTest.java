package io.tollgate.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void escapesQuotesBackslashesAndControlCharacters() {
    assertThat(Json.write("a\"b\\c\nd\te\u0001f\u2028"))
        .isEqualTo("\"a\\\"b\\\\c\\nd\\te\\u0001f\\u2028\"");
  }

  @Test
  void escapesDelC1ControlsEscapeAndBothUnicodeSeparators() {
    assertThat(Json.write("a\u007fb\u001b[2Jc\u009bd\r\u2029e\u00e9"))
        .isEqualTo("\"a\\u007fb\\u001b[2Jc\\u009bd\\r\\u2029e\u00e9\"");
  }

  @Test
  void writesNestedMapsListsNumbersBooleansAndNull() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", 3L);
    m.put("ok", true);
    m.put("none", null);
    m.put("list", Arrays.asList(1, "x", List.of()));
    m.put("k\"ey", Map.of());
    m.put("nan", Double.NaN);
    assertThat(Json.write(m))
        .isEqualTo(
            "{\"n\":3,\"ok\":true,\"none\":null,\"list\":[1,\"x\",[]],\"k\\\"ey\":{},"
                + "\"nan\":null}");
  }
}
