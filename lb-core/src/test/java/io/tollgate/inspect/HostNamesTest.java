package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostNamesTest {
  @ParameterizedTest
  @ValueSource(strings = {"192.0.2.1", "0.0.0.0", "255.255.255.255", "001.02.3.4"})
  void fourDecimalLabelsUpTo255AreAnIpv4Literal(String name) {
    assertThat(HostNames.isDottedQuad(name)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.999",
        "1234.1.1.1",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "1.2.3.4a",
        "a.b.c.d",
        "1.2.3.-4",
        "pass.test",
        "1.2.3.4.example"
      })
  void anythingElseIsNot(String name) {
    assertThat(HostNames.isDottedQuad(name)).isFalse();
  }
}
