package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {
  private static final List<String> TIMEOUT_KEYS = List.of("client-hello", "connect", "idle");

  @Test
  void suggestsKeyWithinTwoEdits() {
    assertThat(DidYouMean.suggest("conect", TIMEOUT_KEYS)).contains("connect");
    assertThat(DidYouMean.suggest("idel", TIMEOUT_KEYS)).contains("idle");
  }

  @Test
  void prefersTheClosestKey() {
    assertThat(DidYouMean.suggest("pol", List.of("pools", "pool"))).contains("pool");
  }

  @Test
  void suggestsByPrefixOrSubstring() {
    assertThat(DidYouMean.suggest("hello", TIMEOUT_KEYS)).contains("client-hello");
    assertThat(DidYouMean.suggest("client-hello-timeout", TIMEOUT_KEYS)).contains("client-hello");
  }

  @Test
  void ignoresCase() {
    assertThat(DidYouMean.suggest("CONNECT", TIMEOUT_KEYS)).contains("connect");
  }

  @Test
  void suggestsNothingWhenNothingIsClose() {
    assertThat(DidYouMean.suggest("banana", TIMEOUT_KEYS)).isEmpty();
    assertThat(DidYouMean.hint("xy", TIMEOUT_KEYS)).isEmpty();
  }

  @Test
  void computesLevenshteinDistance() {
    assertThat(DidYouMean.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(DidYouMean.distance("", "abc")).isEqualTo(3);
    assertThat(DidYouMean.distance("same", "same")).isZero();
  }
}
