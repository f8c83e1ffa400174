/**
 * The command line: {@code run}, {@code check}, {@code reload}, {@code explain}, {@code demo}
 * (picocli).
 */
package io.tollgate.cli;
