package io.tollgate.tls;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.FileStamp;
import io.tollgate.config.FileWatch;
import io.tollgate.tls.PemFiles.PemException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.cert.ocsp.OCSPResp;

/**
 * Turns {@code certificate { chain, key, ocsp }} files into a checked {@link CertifiedKey}, or
 * reports why it cannot (every problem found, each naming its file).
 */
final class CertificateLoader {
  private final TrustAnchors anchors;
  private final Instant now;
  private final TlsProblems problems;
  private final TlsReuse previous;
  private final TlsReuse next;
  private final FileWatch.Scan files;

  CertificateLoader(TrustAnchors anchors, Instant now, TlsProblems problems) {
    this(anchors, now, problems, TlsReuse.NONE, TlsReuse.recording(""), FileWatch.off().scan());
  }

  /**
   * @param previous certificates loaded by the material in force, taken over when their files hold
   *     the same bytes
   * @param next where the certificates loaded now are recorded for the next reload
   * @param files where the stamps that decide whether a file changed come from: a scan begun before
   *     any file is looked at, so nothing changed before it goes unseen
   */
  CertificateLoader(
      TrustAnchors anchors,
      Instant now,
      TlsProblems problems,
      TlsReuse previous,
      TlsReuse next,
      FileWatch.Scan files) {
    this.anchors = anchors;
    this.now = now;
    this.problems = problems;
    this.previous = previous;
    this.next = next;
    this.files = files;
  }

  /** The same loader reporting to {@code other} (one per route when routes load in parallel). */
  CertificateLoader reportingTo(TlsProblems other) {
    return new CertificateLoader(anchors, now, other, previous, next, files);
  }

  /** The trust anchors certificates are checked against (a {@link TlsReuse.Quiet} holds for). */
  TrustAnchors anchors() {
    return anchors;
  }

  /** The time certificates are checked against. */
  Instant now() {
    return now;
  }

  /**
   * Reads and checks one certificate; {@code null} when an error was reported.
   *
   * @param configPath key that named the files, e.g. {@code tollgate.routes[0].certificate}
   */
  CertifiedKey load(CertificateFiles files, String configPath) {
    // The tokens before the stamps: a scan of another thread (the config watcher's poll) may
    // forget a file in between, and the token asked after it would be the new file's, current,
    // next to the old stamp and certificate. Asked first, a token is the stat the stamp came from
    // or one already forgotten (a token is never current again).
    List<FileWatch.Token> tokens = tokens(files);
    Path ocspPath = files.ocsp().orElseGet(() -> besideChain(files.chain(), this.files));
    // Files whose stamps are those of the last load are not even read (10,000 routes' reload),
    // nor stat'ed when the file watch saw nothing happen to them.
    long readAt = FileStamp.clock();
    List<Object> stamps = stamps(this.files, readAt, files.chain(), files.key(), ocspPath);
    TlsReuse.CertificateKey byStamp =
        stamps == null
            ? null
            : new TlsReuse.CertificateKey(files.chain(), files.key(), ocspPath, stamps);
    if (byStamp != null) {
      CertifiedKey earlier = previous.certificate(byStamp);
      if (earlier != null) {
        TlsReuse.Quiet quiet = previous.quiet(earlier);
        if (quiet == null || !quiet.holds(anchors, now)) {
          // Not known to pass (or no longer): checked again. When it is, nothing checked could
          // differ: same bytes, same anchors, within its dates, and the key file's permissions are
          // part of its stamp.
          int before = problems.count();
          if (!CertificateChecks.check(earlier, anchors, now, configPath, problems, true)) {
            return null;
          }
          quiet = problems.count() == before ? CertificateChecks.quiet(earlier, anchors) : null;
        }
        if (quiet != null) {
          next.quiet(earlier, quiet);
          if (tokens != null) {
            // The next reload may take it over by these alone while the watch sees no change.
            next.unchanged(new TlsReuse.Unchanged(byStamp, earlier, quiet, tokens));
          }
        }
        next.usedCertificate(byStamp, earlier);
        return earlier;
      }
    }
    int before = problems.count();
    CertifiedKey loaded = read(files, configPath);
    // Recorded under the stamps only when they held while the files were read.
    if (loaded != null
        && byStamp != null
        && stamps.equals(
            stamps(FileWatch.off().scan(), readAt, files.chain(), files.key(), ocspPath))) {
      if (problems.count() == before) {
        // Checked just now without a word, recorded as a reload that takes it over records it:
        // the first reload after a load takes it over by the tokens, without checking 10,000
        // certificates again and stat'ing their files. Before it is shared just below, so the
        // routes given it find its record.
        TlsReuse.Quiet quiet = CertificateChecks.quiet(loaded, anchors);
        next.quiet(loaded, quiet);
        if (tokens != null) {
          next.unchanged(new TlsReuse.Unchanged(byStamp, loaded, quiet, tokens));
        }
      }
      // Routes of this build naming the same files get the first one read, as a reload taking
      // them over would give them: one object, and the contexts keyed by it, from the start.
      return next.usedCertificateOnce(byStamp, loaded);
    }
    return loaded;
  }

  /**
   * The file watch's tokens of the chain, the key and the OCSP file (or the path beside the chain
   * where one would be looked for, also when there is none); null when one is not remembered.
   */
  private List<FileWatch.Token> tokens(CertificateFiles certificate) {
    Path ocsp = certificate.ocsp().orElseGet(() -> ocspBeside(certificate.chain()));
    List<FileWatch.Token> out = new java.util.ArrayList<>(3);
    for (Path file : new Path[] {certificate.chain(), certificate.key(), ocsp}) {
      FileWatch.Token token = this.files.token(file);
      if (token == null) {
        return null;
      }
      out.add(token);
    }
    return List.copyOf(out);
  }

  /**
   * The files' stamps, or null when one cannot be stat'ed or changed too recently to be trusted
   * ({@link FileStamp#settledBefore}); an absent file (no OCSP file) counts as a stamp of its own.
   */
  private static List<Object> stamps(FileWatch.Scan scan, long readAt, Path... files) {
    List<Object> out = new java.util.ArrayList<>(files.length);
    for (int i = 0; i < files.length; i++) {
      Path file = files[i];
      if (file == null) {
        out.add("-");
        continue;
      }
      // The key (second) with its permissions, which the checks warn about.
      java.util.Optional<FileStamp> stamp =
          i == 1 ? scan.stampWithPermissions(file) : scan.stamp(file);
      if (stamp.isEmpty() || !stamp.get().settledBefore(readAt)) {
        return null;
      }
      out.add(stamp.get());
    }
    return out;
  }

  private CertifiedKey read(CertificateFiles files, String configPath) {
    byte[] chainBytes = bytes(files.chain(), configPath);
    if (chainBytes == null) {
      return null;
    }
    boolean oneFile = files.key().equals(files.chain());
    byte[] keyBytes = oneFile ? chainBytes : bytes(files.key(), configPath);
    if (keyBytes == null) {
      return null;
    }
    Path ocspFile = ocspFile(files);
    byte[] ocsp = ocspFile == null ? null : readOcspFile(ocspFile, configPath, problems);
    if (ocspFile != null && ocsp == null) {
      return null;
    }
    TlsReuse.CertificateKey key =
        new TlsReuse.CertificateKey(
            files.chain(), files.key(), ocspFile, TlsReuse.digests(chainBytes, keyBytes, ocsp));
    CertifiedKey earlier = previous.certificate(key);
    if (earlier != null) {
      // Same bytes: parsing and the key match would give the same; the checks that depend on
      // the time, the trust anchors and the key file's permissions run again.
      if (!CertificateChecks.check(earlier, anchors, now, configPath, problems, true)) {
        return null;
      }
      next.usedCertificate(key, earlier);
      return earlier;
    }
    PemFiles.Content chainContent = parse(files.chain(), chainBytes, configPath);
    if (chainContent == null) {
      return null;
    }
    PemFiles.Content keyContent = oneFile ? chainContent : parse(files.key(), keyBytes, configPath);
    if (keyContent == null) {
      return null;
    }
    CertifiedKey certified =
        fromContent(
            files.chain(),
            chainContent.certificates(),
            files.key(),
            keyContent.keys(),
            ocsp,
            ocspFile,
            configPath);
    if (certified != null) {
      next.usedCertificate(key, certified);
    }
    return certified;
  }

  private byte[] bytes(Path file, String configPath) {
    try {
      return PemFiles.bytes(file);
    } catch (PemException e) {
      problems.error(file, configPath, e.getMessage());
      return null;
    }
  }

  private PemFiles.Content parse(Path file, byte[] content, String configPath) {
    try {
      return PemFiles.read(file, content);
    } catch (PemException e) {
      problems.error(file, configPath, e.getMessage());
      return null;
    }
  }

  /**
   * Checks a chain and key already read (the certificate store reads files itself); {@code null}
   * when an error was reported.
   */
  CertifiedKey fromContent(
      Path chainFile,
      List<X509Certificate> chain,
      Path keyFile,
      List<PrivateKey> keys,
      byte[] ocsp,
      Path ocspFile,
      String configPath) {
    boolean ok = true;
    if (chain.isEmpty()) {
      problems.error(
          chainFile,
          configPath,
          "no certificate in the file (expected PEM blocks -----BEGIN CERTIFICATE-----, the leaf"
              + " certificate first, then its intermediates)");
      ok = false;
    }
    if (keys.isEmpty()) {
      problems.error(
          keyFile,
          configPath,
          "no private key in the file (expected -----BEGIN PRIVATE KEY-----, -----BEGIN RSA"
              + " PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
      ok = false;
    } else if (keys.size() > 1) {
      problems.error(
          keyFile,
          configPath,
          keys.size() + " private keys in the file; expected exactly one (the leaf's)");
      ok = false;
    }
    if (!ok) {
      return null;
    }
    X509Certificate leaf = chain.get(0);
    KeyKind kind = KeyKind.of(leaf.getPublicKey());
    if (kind == null) {
      problems.error(
          chainFile,
          configPath,
          "the certificate ("
              + leaf.getSubjectX500Principal().getName()
              + ") has a "
              + leaf.getPublicKey().getAlgorithm()
              + " key; Tollgate supports RSA and ECDSA");
      return null;
    }
    CertifiedKey certified =
        new CertifiedKey(chainFile, keyFile, chain, keys.get(0), kind, ocsp, ocspFile);
    return CertificateChecks.check(certified, anchors, now, configPath, problems)
        ? certified
        : null;
  }

  private PemFiles.Content read(Path file, String configPath) {
    try {
      return PemFiles.read(file);
    } catch (PemException e) {
      problems.error(file, configPath, e.getMessage());
      return null;
    }
  }

  /** The OCSP file named by {@code ocsp}, or else {@code <chain>.ocsp} if it exists, or null. */
  static Path ocspFile(CertificateFiles files) {
    return files.ocsp().orElseGet(() -> besideChain(files.chain()));
  }

  /** {@code <chain>.ocsp} when that file exists, else {@code null}. */
  static Path besideChain(Path chainFile) {
    return besideChain(chainFile, FileWatch.off().scan());
  }

  /** As {@link #besideChain(Path)}, asking {@code files} whether it exists. */
  static Path besideChain(Path chainFile, FileWatch.Scan files) {
    Path beside = ocspBeside(chainFile);
    return files.isRegularFile(beside) ? beside : null;
  }

  /** Where an OCSP response for {@code chainFile} is looked for when none is named. */
  private static Path ocspBeside(Path chainFile) {
    return chainFile.resolveSibling(chainFile.getFileName() + ".ocsp");
  }

  /** Reads and parses a DER OCSP response; {@code null} (reported) when unusable. */
  static byte[] readOcspFile(Path file, String configPath, TlsProblems problems) {
    try {
      byte[] der = Files.readAllBytes(file);
      OCSPResp response = new OCSPResp(der);
      if (response.getStatus() != OCSPResp.SUCCESSFUL) {
        problems.error(
            file,
            configPath,
            "the OCSP response has status "
                + response.getStatus()
                + " (not successful); fetch a new one or remove the file");
        return null;
      }
      return der;
    } catch (IOException | RuntimeException e) {
      problems.error(
          file,
          configPath,
          "not a DER OCSP response ("
              + e.getMessage()
              + "); write it with `openssl ocsp ..."
              + " -respout FILE`");
      return null;
    }
  }
}
