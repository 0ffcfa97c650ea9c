/**
 * Reading a Cassandra node's user data back: the template's UserData (base64 of gzip, compressedUserData) to
 * the script, and the script to the files its heredocs write. Used to say which files a change of the user data
 * touches (scripts/aws/cassandra-user-data-guard.ts).
 */
import { gunzipSync, strFromU8 } from "fflate";

/** The terminator of every heredoc in the user data (a file's body may not hold it on a line by itself). */
export const heredocMarker = "ANOMALY_KIT_EOF";

/** The name under which the script's own lines (everything outside the heredocs) are compared. */
export const scriptItself = "the first-boot script (outside the files it writes)";

/** The script a template's UserData holds; throws naming `what` when it is not base64 of gzip'd text. */
export function userDataScript(what: string, userData: unknown): string {
  if (typeof userData !== "string") {
    throw new Error(
      `${what}: UserData ${JSON.stringify(userData)?.slice(0, 80)} is not allowed; allowed: a literal base64 string of gzip'd text`,
    );
  }
  try {
    return strFromU8(gunzipSync(Buffer.from(userData, "base64")));
  } catch (error) {
    throw new Error(`${what}: UserData is not base64 of gzip'd text (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * The files a script writes with `cat > path <<'marker'` or `cat >> path <<'marker'`, by path (a path written
 * twice: its parts joined), and the remaining lines under `scriptItself`.
 */
export function userDataFiles(script: string): Map<string, string> {
  // The script first: a change report then reads from the script to the files it writes.
  const files = new Map<string, string>([[scriptItself, ""]]);
  const rest: string[] = [];
  const opening = new RegExp(`^cat >>? (\\S+) <<'${heredocMarker}'$`);
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = opening.exec(lines[i]!);
    if (m === null) {
      rest.push(lines[i]!);
      continue;
    }
    const end = lines.indexOf(heredocMarker, i + 1);
    if (end < 0) throw new Error(`user data: the heredoc of ${m[1]!} (line ${i + 1}) has no ${heredocMarker} line`);
    const body = lines.slice(i + 1, end).join("\n");
    files.set(m[1]!, files.has(m[1]!) ? `${files.get(m[1]!)!}\n${body}` : body);
    i = end;
  }
  files.set(scriptItself, rest.join("\n"));
  return files;
}

/** The files (paths, or `scriptItself`) whose text differs between two scripts, in the newer script's order. */
export function changedFiles(before: string, after: string): string[] {
  const a = userDataFiles(before);
  const b = userDataFiles(after);
  const names = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  return names.filter((name) => a.get(name) !== b.get(name));
}
