package io.tollgate.tls;

import io.tollgate.tls.PemFiles.PemException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The certificates of {@code certificates.directory}, indexed by DNS name for routes with {@code
 * certificate = auto}.
 *
 * <p>What is read: the regular files directly in the directory (not in sub-directories; symbolic
 * links are followed, names starting with {@code .} are ignored) whose names end in {@code .pem},
 * {@code .crt}, {@code .cer} or {@code .key} (any case). Other files, such as {@code
 * NAME.pem.ocsp}, are ignored. A <em>bundle</em> is
 *
 * <ul>
 *   <li>one file holding both the chain (leaf first) and its private key, or
 *   <li>a file holding only certificates plus a file holding only a key with the same base name:
 *       {@code shop.pem} or {@code shop.crt} with {@code shop.key}.
 * </ul>
 *
 * A file with certificates but no key (for instance a CA bundle) and a key without certificates are
 * skipped with a warning. Every bundle passes the same checks as a route's certificate ({@link
 * CertificateChecks}), and a staple is read from {@code <chain file>.ocsp} when present.
 *
 * <p>Index: each bundle under its SAN DNS names, wildcards ({@code *.example.com}) included, or its
 * subject CN when it has no DNS SAN. A name may have one ECDSA and one RSA certificate; two bundles
 * with the same name and key type are an error naming both files, unless exactly one of them is
 * valid now (a renewed certificate beside the lapsed one): that one is served for the name, with a
 * warning naming the other. Lookup by SNI: the exact name first; otherwise {@code *.rest} for SNI
 * {@code label.rest} (a wildcard covers exactly one label, as in RFC 6125).
 */
public final class CertificateStore {
  /** File name endings the store reads (lower case). */
  static final List<String> EXTENSIONS = List.of(".pem", ".crt", ".cer", ".key");

  private final Path directory;
  private final List<CertifiedKey> bundles;
  private final Map<String, CertificateChoice> byName;

  private CertificateStore(
      Path directory, List<CertifiedKey> bundles, Map<String, CertificateChoice> byName) {
    this.directory = directory;
    this.bundles = List.copyOf(bundles);
    this.byName = Map.copyOf(byName);
  }

  /** The directory the store was read from. */
  public Path directory() {
    return directory;
  }

  /** Every bundle that loaded without error. */
  public List<CertifiedKey> bundles() {
    return bundles;
  }

  /**
   * Reads every bundle in {@code directory}; problems are reported with {@code configPath} ({@code
   * tollgate.certificates.directory}). Never {@code null}: an unreadable directory gives an empty
   * store and an error.
   */
  static CertificateStore load(
      Path directory, CertificateLoader loader, TlsProblems problems, String configPath) {
    Map<String, List<Path>> byBaseName = new TreeMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path file : entries) {
        String name = file.getFileName().toString();
        String extension = extension(name);
        if (name.startsWith(".") || extension == null || !Files.isRegularFile(file)) {
          continue;
        }
        String base = name.substring(0, name.length() - extension.length());
        byBaseName.computeIfAbsent(base, k -> new ArrayList<>()).add(file);
      }
    } catch (IOException e) {
      problems.error(directory, configPath, "cannot list the certificate directory: " + e);
      return new CertificateStore(directory, List.of(), Map.of());
    }

    List<CertifiedKey> bundles = new ArrayList<>();
    for (List<Path> group : byBaseName.values()) {
      group.sort(null);
      loadGroup(group, loader, problems, configPath, bundles);
    }

    Map<String, CertificateChoice> byName = new HashMap<>();
    for (CertifiedKey bundle : bundles) {
      for (String name : bundle.dnsNames()) {
        CertificateChoice existing = byName.get(name);
        if (existing == null) {
          byName.put(name, CertificateChoice.of(bundle));
        } else if (existing.get(bundle.kind()) != null) {
          CertifiedKey held = existing.get(bundle.kind());
          if (held.validAt(loader.now()) != bundle.validAt(loader.now())) {
            // A renewed certificate dropped beside the lapsed one: serve the valid one.
            CertifiedKey kept = held.validAt(loader.now()) ? held : bundle;
            CertifiedKey unused = kept == held ? bundle : held;
            byName.put(name, existing.with(kept));
            problems.warning(
                unused.chainFile(),
                configPath,
                name
                    + " is also claimed by "
                    + kept.chainFile()
                    + ", which is valid now while"
                    + " this one is not: "
                    + kept.chainFile()
                    + " is served for "
                    + name
                    + "; remove this file");
          } else {
            problems.error(
                bundle.chainFile(),
                configPath,
                name
                    + " is claimed by two "
                    + bundle.kind()
                    + " certificates: "
                    + held.chainFile()
                    + " and "
                    + bundle.chainFile()
                    + "; keep one of them (one ECDSA and one RSA certificate per name are"
                    + " allowed)");
          }
        } else {
          byName.put(name, existing.with(bundle));
        }
      }
    }
    return new CertificateStore(directory, bundles, byName);
  }

  /** Files sharing one base name ({@code shop.pem}, {@code shop.key}): bundles or warnings. */
  private static void loadGroup(
      List<Path> group,
      CertificateLoader loader,
      TlsProblems problems,
      String configPath,
      List<CertifiedKey> bundles) {
    Map<Path, PemFiles.Content> contents = new LinkedHashMap<>();
    for (Path file : group) {
      try {
        contents.put(file, PemFiles.read(file));
      } catch (PemException e) {
        problems.error(file, configPath, e.getMessage());
      }
    }
    List<Path> certificateOnly = new ArrayList<>();
    List<Path> keyOnly = new ArrayList<>();
    for (Map.Entry<Path, PemFiles.Content> entry : contents.entrySet()) {
      Path file = entry.getKey();
      PemFiles.Content content = entry.getValue();
      boolean hasCertificates = !content.certificates().isEmpty();
      boolean hasKeys = !content.keys().isEmpty();
      if (hasCertificates && hasKeys) {
        add(
            loader.fromContent(
                file,
                content.certificates(),
                file,
                content.keys(),
                ocspBeside(file, problems, configPath),
                CertificateLoader.besideChain(file),
                configPath),
            bundles);
      } else if (hasCertificates) {
        certificateOnly.add(file);
      } else if (hasKeys) {
        keyOnly.add(file);
      } else {
        problems.warning(file, configPath, "skipped: no certificate and no private key in it");
      }
    }
    if (certificateOnly.size() == 1 && keyOnly.size() == 1) {
      Path chainFile = certificateOnly.get(0);
      Path keyFile = keyOnly.get(0);
      add(
          loader.fromContent(
              chainFile,
              contents.get(chainFile).certificates(),
              keyFile,
              contents.get(keyFile).keys(),
              ocspBeside(chainFile, problems, configPath),
              CertificateLoader.besideChain(chainFile),
              configPath),
          bundles);
      return;
    }
    for (Path file : certificateOnly) {
      problems.warning(
          file,
          configPath,
          "skipped: certificates but no private key"
              + (keyOnly.isEmpty()
                  ? ""
                  : " (more than one certificate file shares its key file's" + " name)")
              + "; a bundle holds the chain and its key in one file, or in NAME.pem (or"
              + " NAME.crt) plus NAME.key");
    }
    for (Path file : keyOnly) {
      problems.warning(
          file,
          configPath,
          "skipped: a private key without a certificate (expected NAME.pem or NAME.crt beside"
              + " NAME.key)");
    }
  }

  private static void add(CertifiedKey certified, List<CertifiedKey> bundles) {
    if (certified != null) {
      bundles.add(certified);
    }
  }

  private static byte[] ocspBeside(Path chainFile, TlsProblems problems, String configPath) {
    Path ocsp = CertificateLoader.besideChain(chainFile);
    return ocsp == null ? null : CertificateLoader.readOcspFile(ocsp, configPath, problems);
  }

  private static String extension(String fileName) {
    String lower = fileName.toLowerCase(Locale.ROOT);
    for (String extension : EXTENSIONS) {
      if (lower.endsWith(extension) && lower.length() > extension.length()) {
        return fileName.substring(fileName.length() - extension.length());
      }
    }
    return null;
  }

  /**
   * The certificates for {@code sni}: those naming it exactly, else the wildcard {@code *.rest} for
   * {@code label.rest}; {@code null} when none covers it.
   */
  CertificateChoice lookup(String sni) {
    if (sni == null || sni.isEmpty()) {
      return null;
    }
    String name = sni.toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    CertificateChoice exact = byName.get(name);
    if (exact != null) {
      return exact;
    }
    int dot = name.indexOf('.');
    return dot > 0 && dot < name.length() - 1 ? byName.get("*." + name.substring(dot + 1)) : null;
  }

  /**
   * Whether a route host pattern is covered: an exact host by a certificate for it (exact or
   * wildcard); a wildcard host {@code *.x} only by a {@code *.x} certificate.
   */
  boolean covers(String routeHost) {
    return routeHost.startsWith("*.") ? byName.containsKey(routeHost) : lookup(routeHost) != null;
  }

  /**
   * The bundles that some SNI matching one of {@code routeHosts} can select: for an exact host,
   * what {@link #lookup} returns; for {@code *.x}, every bundle with a name ending in {@code .x}.
   */
  Set<CertifiedKey> relevantTo(Collection<String> routeHosts) {
    Set<CertifiedKey> relevant = Collections.newSetFromMap(new IdentityHashMap<>());
    for (String host : routeHosts) {
      if (host.startsWith("*.")) {
        String suffix = host.substring(1); // ".x"
        for (CertifiedKey bundle : bundles) {
          if (bundle.dnsNames().stream().anyMatch(n -> n.endsWith(suffix))) {
            relevant.add(bundle);
          }
        }
      } else {
        CertificateChoice choice = lookup(host);
        if (choice != null) {
          if (choice.ecdsa() != null) {
            relevant.add(choice.ecdsa());
          }
          if (choice.rsa() != null) {
            relevant.add(choice.rsa());
          }
        }
      }
    }
    return relevant;
  }
}
