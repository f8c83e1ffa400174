package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The schema and {@code reference.conf} agree: every key the binders read is documented. */
class SchemaTest {
  @Test
  void referenceConfDocumentsEveryKnownKey() throws Exception {
    String reference;
    try (var in = SchemaTest.class.getResourceAsStream("/reference.conf")) {
      reference = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    for (Schema.Shape shape :
        List.of(
            Schema.TOLLGATE,
            Schema.DNS_SHAPE,
            Schema.LISTENER,
            Schema.IO_SHAPE,
            Schema.TIMEOUTS_SHAPE,
            Schema.LIMITS_SHAPE,
            Schema.PER_ROUTE_SHAPE,
            Schema.ROUTE_LIMITS_SHAPE,
            Schema.CERTIFICATES_SHAPE,
            Schema.TLS_SHAPE,
            Schema.ROUTE,
            Schema.CERTIFICATE_FILES,
            Schema.CLIENT_AUTH_SHAPE,
            Schema.DEFAULT_ROUTE_SHAPE,
            Schema.POOL_SHAPE,
            Schema.SERVER,
            Schema.BACKEND_TLS_SHAPE,
            Schema.CLIENT_CERTIFICATE_FILES,
            Schema.HEALTH_CHECK_SHAPE,
            Schema.PASSIVE_EJECTION_SHAPE,
            Schema.WARMUP_SHAPE)) {
      for (String key : shape.names()) {
        assertThat(reference)
            .as("reference.conf mentions %s.%s", shape.what(), key)
            .containsPattern(
                "(?m)^\\s*#?\\s*"
                    + java.util.regex.Pattern.quote(key)
                    + "\\s*[={]"
                    + "|[{,]\\s*"
                    + java.util.regex.Pattern.quote(key)
                    + "\\s*=");
      }
    }
  }
}
