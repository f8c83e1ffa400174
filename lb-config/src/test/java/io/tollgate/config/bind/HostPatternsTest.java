package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPatternsTest {
  @ParameterizedTest
  @CsvSource({
    "WWW.Pass.Test., www.pass.test",
    "pass.test, pass.test",
    "*.Wild.Test, *.wild.test",
    "a.test.., a.test."
  })
  void normalisesToLowerCaseWithoutOneTrailingDot(String raw, String expected) {
    assertThat(HostPatterns.normalise(raw)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "pass.test",
        "localhost",
        "a-b.c_d.test",
        "*.wild.test",
        "*.test",
        "xn--bcher-kva.example"
      })
  void acceptsValidNamesAndWildcards(String pattern) {
    assertThat(HostPatterns.problem(pattern)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"*wild.test", "a.*.test", "*", "*.*.test", "w*.test"})
  void rejectsMalformedWildcards(String pattern) {
    assertThat(HostPatterns.problem(pattern)).startsWith("is not a valid wildcard");
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.1", "::1", "[::1]", "2001:db8::1"})
  void rejectsIpLiterals(String pattern) {
    assertThat(HostPatterns.problem(pattern)).startsWith("is an IP address");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-a.test", "a-.test", "a..test", ".a.test", "a b.test", "a.test."})
  void rejectsInvalidNames(String pattern) {
    assertThat(HostPatterns.problem(pattern)).startsWith("is not a valid host name");
  }

  @ParameterizedTest
  @ValueSource(ints = {64, 254})
  void rejectsOverlongLabelsAndNames(int length) {
    String name =
        length == 64 ? "a".repeat(64) + ".test" : ("a".repeat(60) + ".").repeat(4) + "a".repeat(10);
    assertThat(HostPatterns.problem(name)).contains("longer than");
  }

  @ParameterizedTest
  @ValueSource(strings = {""})
  void rejectsEmpty(String pattern) {
    assertThat(HostPatterns.problem(pattern)).startsWith("is empty");
  }
}
