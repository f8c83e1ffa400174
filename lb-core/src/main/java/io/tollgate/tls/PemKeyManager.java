package io.tollgate.tls;

import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.PemPrivateKey;
import io.netty.handler.ssl.PemX509Certificate;
import io.netty.handler.ssl.util.SimpleKeyManagerFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Hands BoringSSL one route's certificate chain and key as PEM text encoded once, here, with the
 * JDK's Base64. Given a {@code PrivateKey} and {@code X509Certificate}s, Netty puts them in a key
 * store, reads them back and PEM-encodes them with its own Base64 over {@code ByteBuf}s: with 5,000
 * offload routes that encoding alone was a sixth of the load. Netty's caching key manager factory
 * parses the PEM into native key material at the context's first handshake and keeps it, so
 * handshakes after the first cost what they did. Only for the OpenSSL provider: the JDK's engine
 * cannot use Netty's PEM-only certificate objects.
 */
final class PemKeyManager extends X509ExtendedKeyManager {
  private static final String ALIAS = "route";
  private static final Base64.Encoder BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private final X509Certificate[] chain;
  private final PrivateKey key;
  private final String keyType;

  private PemKeyManager(CertifiedKey certified) throws CertificateEncodingException {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate certificate : certified.chain()) {
      append(pem, "CERTIFICATE", certificate.getEncoded());
    }
    this.chain =
        new X509Certificate[] {
          PemX509Certificate.valueOf(pem.toString().getBytes(StandardCharsets.US_ASCII))
        };
    StringBuilder keyPem = new StringBuilder();
    append(keyPem, "PRIVATE KEY", certified.key().getEncoded());
    this.key = PemPrivateKey.valueOf(keyPem.toString().getBytes(StandardCharsets.US_ASCII));
    // The key types Netty asks for (OpenSslKeyMaterialManager): "EC" for ECDHE_ECDSA and TLS 1.3
    // ECDSA signatures, "RSA" for RSA ones.
    this.keyType = certified.kind() == KeyKind.ECDSA ? "EC" : "RSA";
  }

  /** A factory Netty's OpenSSL server context takes the chain and key of {@code certified} from. */
  static KeyManagerFactory factory(CertifiedKey certified) throws CertificateEncodingException {
    KeyManager manager = new PemKeyManager(certified);
    KeyManagerFactory plain =
        new SimpleKeyManagerFactory() {
          @Override
          protected void engineInit(KeyStore keyStore, char[] password) {}

          @Override
          protected void engineInit(ManagerFactoryParameters parameters) {}

          @Override
          protected KeyManager[] engineGetKeyManagers() {
            return new KeyManager[] {manager};
          }
        };
    return new OpenSslCachingX509KeyManagerFactory(plain, 1);
  }

  private static void append(StringBuilder pem, String label, byte[] der) {
    pem.append("-----BEGIN ")
        .append(label)
        .append("-----\n")
        .append(BASE64.encodeToString(der))
        .append("\n-----END ")
        .append(label)
        .append("-----\n");
  }

  private String aliasFor(String type) {
    return keyType.equals(type) ? ALIAS : null;
  }

  @Override
  public String chooseEngineServerAlias(String type, Principal[] issuers, SSLEngine engine) {
    return aliasFor(type);
  }

  @Override
  public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
    return aliasFor(type);
  }

  @Override
  public String[] getServerAliases(String type, Principal[] issuers) {
    return keyType.equals(type) ? new String[] {ALIAS} : null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }

  @Override
  public String[] getClientAliases(String type, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine engine) {
    return null;
  }
}
