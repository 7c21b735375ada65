/**
 * Removes RFC 9110 `OWS` (SP and HTAB) around a field value or one of its parts. Not
 * `String#trim`: that also drops NBSP (`\xa0`, a legal obs-text byte in a Node header) and other
 * Unicode spaces, so `Bearer <token>\xa0` would pass as a clean credential. A loop rather than a
 * regular expression, which would backtrack quadratically over a long run of spaces.
 */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return value.slice(start, end);
}
