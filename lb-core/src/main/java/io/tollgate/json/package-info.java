/** A small JSON writer shared by the admin endpoint and the access log (no dependency needed). */
package io.tollgate.json;
