package io.tollgate.acme;

import java.util.Optional;

/** Answers for http-01 challenges that Tollgate's ACME client has pending. */
public interface HttpChallenges {
  HttpChallenges NONE = (host, token) -> Optional.empty();

  /** The key authorization to serve for this host and token, if an order is pending. */
  Optional<String> keyAuthorization(String host, String token);
}
