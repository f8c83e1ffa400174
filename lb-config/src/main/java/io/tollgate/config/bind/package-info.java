/**
 * Binding and validation: turns the user's HOCON document into the records of {@code
 * io.tollgate.config}, or into every error it holds. {@link io.tollgate.config.bind.Binding} is the
 * only public class, the entry {@link io.tollgate.config.ConfigLoader} calls; everything else is
 * package-private.
 *
 * <p>The load: the user's document is parsed, falls back to {@code reference.conf} (this module's
 * defaults) and is resolved; {@code TollgateBinder} then binds each section with its binder ({@code
 * ListenersBinder}, {@code RoutesBinder}, {@code PoolsBinder} with {@code PoolHealthBinder} and
 * {@code ProxyProtocolBinder}, {@code TlsSectionsBinder} and {@code TlsBinder} with {@code
 * CertificateBinder}, {@code OpsBinder}). Every section is bound even after an earlier one failed,
 * so one run reports every mistake; records are built only when nothing was wrong.
 *
 * <p>How one key is read, and what adding one takes:
 *
 * <ol>
 *   <li>a {@code Schema.Key} (its name and the words an error uses for what is expected), listed in
 *       its object's {@code Schema.Shape}; any key not in the shape is reported as unknown, with a
 *       did-you-mean hint ({@code DidYouMean});
 *   <li>a line in {@code reference.conf} giving its default and documenting it (list elements,
 *       which HOCON cannot default, take theirs from {@code Schema}); {@code SchemaTest} checks
 *       every key of the schema is there;
 *   <li>the read in the section's binder: a {@code Node} (value, key path, origin) handed to {@code
 *       Readers} (typed reads: durations, byte sizes, ranges, choices), {@code FileRefs} (files and
 *       directories that must be readable), {@code Addresses} or {@code TlsLists}. A failed read
 *       records an error on the node and returns empty; the binder carries on.
 * </ol>
 *
 * <p>Errors and warnings are collected in {@code Problems}, each naming {@code file:line} and the
 * key path: {@code Origins} finds the line in the user's own parse tree (merged objects lose their
 * file name, and a substituted value would point at the environment), and {@code TypesafeErrors}
 * rewords typesafe-config's own parse and resolve failures the same way. {@code HostPatterns}
 * normalises and checks route host names.
 */
package io.tollgate.config.bind;
