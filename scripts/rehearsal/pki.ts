/**
 * Throw-away credentials for one rehearsal cluster, made with openssl in its temp folder: a CA, the API
 * server's serving certificate for the loopback address, an admin client certificate (group system:masters)
 * that the control-plane components and kubectl use, and the service-account signing key pair.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** Names the serving certificate is valid for: the loopback address and the in-cluster service names. */
const serverNames = ["IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc"];

function signed(dir: string, name: string, subject: string, extensions: string, pki: { caCert: string; caKey: string }): void {
  openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      pki.caCert,
      "-CAkey",
      pki.caKey,
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${name}.crt`,
      "-extfile",
      `${name}.ext`,
    ],
    dir,
  );
}

export function makePki(dir: string): Pki {
  const caCert = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caCert, "-days", "2", "-subj", "/CN=rehearsal-ca"],
    dir,
  );
  signed(dir, "apiserver", "/CN=kube-apiserver", `subjectAltName=${serverNames.join(",")}\nextendedKeyUsage=serverAuth\n`, {
    caCert,
    caKey,
  });
  signed(dir, "admin", "/O=system:masters/CN=rehearsal-admin", "extendedKeyUsage=clientAuth\n", { caCert, caKey });
  openssl(["genrsa", "-out", "sa.key", "2048"], dir);
  openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return {
    caCert,
    caKey,
    serverCert: join(dir, "apiserver.crt"),
    serverKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
}

/** A kubeconfig for the admin identity against the API server at `server`. */
export function writeKubeconfig(path: string, server: string, pki: Pki): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "rehearsal", cluster: { server, "certificate-authority": pki.caCert } }],
    users: [{ name: "admin", user: { "client-certificate": pki.adminCert, "client-key": pki.adminKey } }],
    contexts: [{ name: "rehearsal", context: { cluster: "rehearsal", user: "admin" } }],
    "current-context": "rehearsal",
  };
  // JSON is YAML: kubectl and client-go read it as a kubeconfig.
  writeFileSync(path, JSON.stringify(config, null, 2));
}
