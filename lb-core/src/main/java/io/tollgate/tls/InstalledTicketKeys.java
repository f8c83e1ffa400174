package io.tollgate.tls;

import io.netty.handler.ssl.OpenSslSessionContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The BoringSSL session contexts of one {@link TlsMaterial}, each with the scope its ticket keys
 * are derived for, and the master keys installed in them. With the process's own rotating keys
 * ({@code source} set) {@link #refresh} installs the new ones after a rotation; with a key file the
 * keys change by reload only.
 */
final class InstalledTicketKeys {
  private record Target(OpenSslSessionContext sessions, SessionScope scope) {}

  private final ProcessTicketKeys source;
  private final List<Target> targets = new ArrayList<>();
  private TicketKeys installed;

  /**
   * @param master the keys to install now
   * @param source where newer keys come from, or {@code null} (a key file: fixed)
   */
  InstalledTicketKeys(TicketKeys master, ProcessTicketKeys source) {
    this.installed = master;
    this.source = source;
  }

  /** Installs the keys for {@code scope} in {@code sessions} (turns tickets on) and keeps it. */
  synchronized void install(OpenSslSessionContext sessions, SessionScope scope) {
    sessions.setTicketKeys(installed.forScope(scope).toOpenSsl());
    targets.add(new Target(sessions, scope));
  }

  /**
   * Takes over {@code sessions}, a context of the previous material that carries {@code had}:
   * installs this material's keys only if they are other keys (a changed key file, or a rotation),
   * and keeps it for {@link #refresh}.
   */
  synchronized void adopt(OpenSslSessionContext sessions, SessionScope scope, TicketKeys had) {
    if (had != installed) {
      sessions.setTicketKeys(installed.forScope(scope).toOpenSsl());
    }
    targets.add(new Target(sessions, scope));
  }

  /** The master keys installed now. */
  synchronized TicketKeys installed() {
    return installed;
  }

  /**
   * Installs the process's current keys where they changed since the last call (a rotation). Off
   * the event loops: installing takes each context's write lock.
   *
   * @return whether new keys were installed
   */
  synchronized boolean refresh() {
    if (source == null) {
      return false;
    }
    TicketKeys now = source.current();
    if (now == installed) {
      return false;
    }
    installed = now;
    for (Target target : targets) {
      target.sessions().setTicketKeys(now.forScope(target.scope()).toOpenSsl());
    }
    return true;
  }
}
