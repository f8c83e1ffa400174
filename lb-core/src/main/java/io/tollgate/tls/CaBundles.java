package io.tollgate.tls;

import io.tollgate.tls.PemFiles.PemException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CA bundles of one build ({@code certificates.trusted-roots}, {@code client-auth.ca}, a pool's
 * {@code tls.ca}), each file read once however many routes and pools name it.
 */
final class CaBundles {
  private final TlsProblems problems;
  private final Map<Path, List<X509Certificate>> read = new HashMap<>();

  CaBundles(TlsProblems problems) {
    this.problems = problems;
  }

  /**
   * The certificates of {@code file}; {@code null} when it is unusable. The problem is reported
   * once, against the {@code configPath} that named the file first.
   */
  synchronized List<X509Certificate> get(Path file, String configPath) {
    if (read.containsKey(file)) {
      return read.get(file);
    }
    List<X509Certificate> certificates;
    try {
      certificates = PemFiles.readCertificates(file);
    } catch (PemException e) {
      problems.error(file, configPath, e.getMessage());
      certificates = null;
    }
    read.put(file, certificates);
    return certificates;
  }
}
