package io.tollgate.pki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for the demo and the tests: it creates a self-signed root (or
 * an intermediate below another authority) and issues server/client leaf certificates with DNS or
 * IP subject alternative names.
 *
 * <p>Everything lives in memory; nothing is meant to be committed or reused. Keys and signatures
 * come from the JDK's default providers (BouncyCastle only builds and encodes the certificates and
 * is never registered as a global provider), so the keys work with any JDK or Netty TLS stack.
 *
 * <p>Typical use:
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.create("Tollgate demo CA", KeyType.EC_P256);
 * IssuedCertificate a = ca.issue(KeyType.EC_P256, "a.demo.test");
 * SSLContext server = a.serverContext();
 * SSLContext client = ca.clientContext();
 * SSLParameters params = CertificateAuthority.clientParameters("a.demo.test");
 * }</pre>
 */
public final class CertificateAuthority {
  /** Key algorithms the authority can create, for itself and for the certificates it issues. */
  public enum KeyType {
    /** ECDSA on NIST P-256 (secp256r1), signed with SHA256withECDSA. */
    EC_P256,
    /** 2048-bit RSA, signed with SHA256withRSA. */
    RSA_2048
  }

  /** How far {@code notBefore} is moved into the past so small clock skews never matter. */
  public static final Duration BACKDATE = Duration.ofHours(1);

  /** Default lifetime of a root or intermediate authority. */
  public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);

  /** Default lifetime of an issued leaf certificate. */
  public static final Duration DEFAULT_LEAF_VALIDITY = Duration.ofDays(90);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyPair keyPair;
  private final KeyType keyType;
  private final X509Certificate certificate;

  /** This authority's certificate followed by its issuers up to, but excluding, the root. */
  private final List<X509Certificate> chainBelowRoot;

  private final X509Certificate root;

  private CertificateAuthority(
      KeyPair keyPair,
      KeyType keyType,
      X509Certificate certificate,
      List<X509Certificate> chainBelowRoot,
      X509Certificate root) {
    this.keyPair = keyPair;
    this.keyType = keyType;
    this.certificate = certificate;
    this.chainBelowRoot = List.copyOf(chainBelowRoot);
    this.root = root;
  }

  /** A self-signed root valid from one hour ago for {@link #DEFAULT_CA_VALIDITY}. */
  public static CertificateAuthority create(String commonName, KeyType type) {
    Instant now = Instant.now();
    return create(commonName, type, now.minus(BACKDATE), now.plus(DEFAULT_CA_VALIDITY));
  }

  /** A self-signed root valid between the given instants. */
  public static CertificateAuthority create(
      String commonName, KeyType type, Instant notBefore, Instant notAfter) {
    Objects.requireNonNull(commonName, "commonName");
    KeyPair keys = generateKeyPair(type);
    X500Name subject = name(commonName);
    X509Certificate cert =
        sign(
            subject,
            keys.getPublic(),
            subject,
            keys.getPublic(),
            keys.getPrivate(),
            type,
            notBefore,
            notAfter,
            builder -> addCaExtensions(builder, null));
    return new CertificateAuthority(keys, type, cert, List.of(), cert);
  }

  /**
   * An intermediate authority signed by this one, valid from one hour ago for {@link
   * #DEFAULT_CA_VALIDITY}. Leaves it issues carry the chain {@code leaf, intermediate(s)}; clients
   * trust the root (see {@link #trustManagers()}).
   */
  public CertificateAuthority intermediate(String commonName, KeyType type) {
    Instant now = Instant.now();
    return intermediate(commonName, type, now.minus(BACKDATE), now.plus(DEFAULT_CA_VALIDITY));
  }

  /** An intermediate authority signed by this one, valid between the given instants. */
  public CertificateAuthority intermediate(
      String commonName, KeyType type, Instant notBefore, Instant notAfter) {
    Objects.requireNonNull(commonName, "commonName");
    KeyPair keys = generateKeyPair(type);
    X509Certificate cert =
        sign(
            name(commonName),
            keys.getPublic(),
            subjectName(),
            keyPair.getPublic(),
            keyPair.getPrivate(),
            keyType,
            notBefore,
            notAfter,
            // pathLen 0: an intermediate of the demo may issue leaves only.
            builder -> addCaExtensions(builder, 0));
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(cert);
    chain.addAll(chainBelowRoot);
    return new CertificateAuthority(keys, type, cert, chain, root);
  }

  /**
   * Issues a leaf valid from one hour ago for {@link #DEFAULT_LEAF_VALIDITY}; see {@link
   * #leaf(String...)} for how names are interpreted.
   */
  public IssuedCertificate issue(KeyType type, String... names) {
    return leaf(names).keyType(type).issue();
  }

  /**
   * Starts describing a leaf certificate. Each name becomes a subject alternative name: IP literals
   * ({@code 127.0.0.1}, {@code ::1}) as {@code iPAddress} entries, everything else (including
   * wildcards such as {@code *.wild.test}) as {@code dNSName} entries. The first name is also the
   * subject common name.
   */
  public LeafBuilder leaf(String... names) {
    return new LeafBuilder(List.of(names));
  }

  /** Describes one leaf certificate before it is issued; every setting has a default. */
  public final class LeafBuilder {
    private final List<String> names;
    private KeyType type = KeyType.EC_P256;
    private Instant notBefore;
    private Instant notAfter;

    private LeafBuilder(List<String> names) {
      if (names.isEmpty()) {
        throw new IllegalArgumentException("a leaf certificate needs at least one name");
      }
      this.names = names;
    }

    /** Key type of the leaf (default {@link KeyType#EC_P256}). */
    public LeafBuilder keyType(KeyType keyType) {
      this.type = Objects.requireNonNull(keyType, "keyType");
      return this;
    }

    /** Start of validity (default: one hour ago). */
    public LeafBuilder notBefore(Instant instant) {
      this.notBefore = Objects.requireNonNull(instant, "notBefore");
      return this;
    }

    /**
     * End of validity (default: {@code notBefore + 1h + 90 days}). A past instant makes an expired
     * certificate.
     */
    public LeafBuilder notAfter(Instant instant) {
      this.notAfter = Objects.requireNonNull(instant, "notAfter");
      return this;
    }

    /** Generates a key pair and signs the certificate with the enclosing authority. */
    public IssuedCertificate issue() {
      Instant from = notBefore != null ? notBefore : Instant.now().minus(BACKDATE);
      Instant until = notAfter != null ? notAfter : from.plus(BACKDATE).plus(DEFAULT_LEAF_VALIDITY);
      KeyPair keys = generateKeyPair(type);
      X509Certificate cert =
          sign(
              name(names.get(0)),
              keys.getPublic(),
              subjectName(),
              keyPair.getPublic(),
              keyPair.getPrivate(),
              keyType,
              from,
              until,
              builder -> addLeafExtensions(builder, type, names));
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(cert);
      chain.addAll(chainBelowRoot);
      return new IssuedCertificate(keys.getPrivate(), chain);
    }
  }

  /** This authority's own certificate (the root's for a root, the intermediate's otherwise). */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The self-signed root this authority descends from ({@link #certificate()} for a root). */
  public X509Certificate rootCertificate() {
    return root;
  }

  /** The key type of this authority's own key. */
  public KeyType keyType() {
    return keyType;
  }

  /**
   * Writes the root certificate as PEM (what {@code curl --cacert} and other clients need to trust
   * everything this authority issues) and returns {@code file}. Parent directories are created.
   */
  public Path writeCertificatePem(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, Pem.certificates(List.of(root)));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Trust managers that trust the root of this authority and nothing else. */
  public TrustManagerFactory trustManagers() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("tollgate-demo-root", root);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return factory;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build trust managers", e);
    }
  }

  /**
   * A client {@code SSLContext} trusting only this authority's root. It verifies the chain; the
   * host name is only checked when the socket or engine has an endpoint identification algorithm,
   * see {@link #clientParameters(String)}.
   */
  public SSLContext clientContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trustManagers().getTrustManagers(), RANDOM);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build client SSLContext", e);
    }
  }

  /**
   * Client parameters that send {@code hostName} as SNI, verify the server certificate for that
   * name ({@code HTTPS} endpoint identification) and allow only TLS 1.3 and 1.2. Apply with {@code
   * sslSocket.setSSLParameters(...)} or {@code sslEngine.setSSLParameters(...)}.
   */
  public static SSLParameters clientParameters(String hostName) {
    SSLParameters parameters = new SSLParameters();
    parameters.setProtocols(TlsProtocols.modern());
    parameters.setServerNames(List.of(new SNIHostName(hostName)));
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    return parameters;
  }

  // ---------------------------------------------------------------------------------------------

  private X500Name subjectName() {
    return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "Tollgate demo")
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  static KeyPair generateKeyPair(KeyType type) {
    try {
      switch (type) {
        case EC_P256:
          KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
          ec.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
          return ec.generateKeyPair();
        case RSA_2048:
          KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
          rsa.initialize(2048, RANDOM);
          return rsa.generateKeyPair();
        default:
          throw new IllegalArgumentException("unsupported key type " + type);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate " + type + " key pair", e);
    }
  }

  private static String signatureAlgorithm(KeyType signerType) {
    return signerType == KeyType.RSA_2048 ? "SHA256withRSA" : "SHA256withECDSA";
  }

  /** Random, positive, non-zero serial of up to 127 bits (RFC 5280 allows 20 octets). */
  private static BigInteger serialNumber() {
    return new BigInteger(127, RANDOM).setBit(120);
  }

  @FunctionalInterface
  private interface ExtensionWriter {
    void addTo(X509v3CertificateBuilder builder) throws CertIOException, GeneralSecurityException;
  }

  private static X509Certificate sign(
      X500Name subject,
      PublicKey subjectKey,
      X500Name issuer,
      PublicKey issuerKey,
      PrivateKey signingKey,
      KeyType signerType,
      Instant notBefore,
      Instant notAfter,
      ExtensionWriter extensions) {
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException("notAfter " + notAfter + " is not after " + notBefore);
    }
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              serialNumber(),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              subjectKey);
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
      builder.addExtension(
          Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(issuerKey));
      extensions.addTo(builder);
      // No setProvider(): the JDK's default providers sign, BouncyCastle stays unregistered.
      ContentSigner signer =
          new JcaContentSignerBuilder(signatureAlgorithm(signerType)).build(signingKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign certificate for " + subject, e);
    }
  }

  private static void addCaExtensions(X509v3CertificateBuilder builder, Integer pathLength)
      throws CertIOException {
    builder.addExtension(
        Extension.basicConstraints,
        true,
        pathLength == null ? new BasicConstraints(true) : new BasicConstraints(pathLength));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
  }

  private static void addLeafExtensions(
      X509v3CertificateBuilder builder, KeyType type, List<String> names) throws CertIOException {
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    // RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment; ECDHE needs only signatures.
    int usage =
        type == KeyType.RSA_2048
            ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
            : KeyUsage.digitalSignature;
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
    builder.addExtension(
        Extension.extendedKeyUsage,
        false,
        new ExtendedKeyUsage(
            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    GeneralName[] alternativeNames = new GeneralName[names.size()];
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      alternativeNames[i] =
          isIpLiteral(name)
              ? new GeneralName(GeneralName.iPAddress, name)
              : new GeneralName(GeneralName.dNSName, name);
    }
    builder.addExtension(
        Extension.subjectAlternativeName, false, new GeneralNames(alternativeNames));
  }

  /** IPv4 dotted quad or anything with a colon (IPv6); host names contain neither pattern. */
  static boolean isIpLiteral(String name) {
    return name.contains(":") || name.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }
}
