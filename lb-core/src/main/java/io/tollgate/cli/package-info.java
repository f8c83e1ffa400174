/** The command line: {@code run}, {@code check}, {@code demo} (picocli). */
package io.tollgate.cli;
