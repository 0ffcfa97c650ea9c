/**
 * The cluster admin from the caller's identity, against recorded STS and IAM responses replayed on loopback:
 * an assumed role becomes its role's ARN with the path IAM gives (GetRole through the real AWS CLI), a user
 * stays as it is, root and federated users are refused by name, and a GetRole that is denied falls back to
 * the path-less ARN with a warning.
 */
import { describe, expect, it } from "vitest";
import { callerClusterAdmin, callerPrincipal, checkClusterAdmin, ClusterAdminError } from "../../../scripts/aws/cluster-admin.ts";
import { useReplayServer, xmlReply, type Exchange } from "../../recorded/replay-server.ts";
import { recorded } from "../../recorded/recorded.ts";
import { requireAwsCli } from "./aws-cli-required.ts";

const { server, ctx } = useReplayServer();

const identity = (file: string): Exchange => ({ match: "GetCallerIdentity", ...xmlReply(recorded(`sts/${file}`)) });

describe("caller principal", () => {
  it("maps an assumed-role session to its role, keeps a user, refuses root and federated users naming the ARN", () => {
    expect(callerPrincipal("arn:aws:sts::123456789012:assumed-role/experiment-operator/alice")).toEqual({
      kind: "assumed-role",
      partition: "aws",
      account: "123456789012",
      roleName: "experiment-operator",
      pathlessRoleArn: "arn:aws:iam::123456789012:role/experiment-operator",
    });
    expect(callerPrincipal("arn:aws-us-gov:sts::123456789012:assumed-role/ops/s1")).toMatchObject({
      pathlessRoleArn: "arn:aws-us-gov:iam::123456789012:role/ops",
    });
    expect(callerPrincipal("arn:aws:iam::123456789012:user/ops/bob")).toEqual({
      kind: "user",
      arn: "arn:aws:iam::123456789012:user/ops/bob",
    });
    expect(() => callerPrincipal("arn:aws:iam::123456789012:root")).toThrow(
      /arn:aws:iam::123456789012:root: the account's root user cannot/,
    );
    expect(() => callerPrincipal("arn:aws:sts::123456789012:federated-user/carol")).toThrow(ClusterAdminError);
  });
});

describe("cluster admin from STS and IAM (real AWS CLI for GetRole)", () => {
  it("an assumed role becomes the role's ARN with its path from GetRole", { timeout: 30_000 }, async () => {
    requireAwsCli();
    server.add(identity("GetCallerIdentity.xml"), { match: "GetRole", ...xmlReply(recorded("iam/GetRole.with-path.xml")) });
    const admin = await callerClusterAdmin(ctx);
    expect(admin.arn).toBe("arn:aws:iam::123456789012:role/teams/platform/experiment-operator");
    expect(admin.caller).toBe("arn:aws:sts::123456789012:assumed-role/experiment-operator/alice");
    const getRole = server.requests.find((r) => r.key === "GetRole")!;
    expect(getRole.form.get("RoleName")).toBe("experiment-operator");
  });

  it("a denied GetRole falls back to the path-less role ARN, and preflight warns saying what to do", { timeout: 30_000 }, async () => {
    requireAwsCli();
    server.add(identity("GetCallerIdentity.xml"), { match: "GetRole", ...xmlReply(recorded("iam/GetRole.access-denied.xml"), 403) });
    const admin = await callerClusterAdmin(ctx);
    expect(admin.arn).toBe("arn:aws:iam::123456789012:role/experiment-operator");
    expect(admin.note).toMatch(/AccessDenied.*path is unknown.*--cluster-admin-arn/s);

    server.add({ match: "GetRole", ...xmlReply(recorded("iam/GetRole.access-denied.xml"), 403) });
    const check = await checkClusterAdmin(ctx, { account: "123456789012", arn: admin.caller, userId: "AROA3XFRBF535PLBIFPI4:alice" });
    expect(check).toMatchObject({ check: "cluster admin", status: "warn", fix: expect.stringMatching(/iam:GetRole/) as unknown });
  });
});

describe("cluster admin: users and root", () => {
  it("a user is used as it is, without asking IAM", async () => {
    server.add(identity("GetCallerIdentity.user.xml"));
    expect((await callerClusterAdmin(ctx)).arn).toBe("arn:aws:iam::123456789012:user/ops/bob");
    expect(server.keys()).toEqual(["GetCallerIdentity"]);
  });

  it("root fails the preflight check with what to run as instead; the runner refuses before any deploy", async () => {
    server.add(identity("GetCallerIdentity.root.xml"));
    await expect(callerClusterAdmin(ctx)).rejects.toThrow(/root user cannot be given an EKS access entry/);
    const check = await checkClusterAdmin(ctx, { account: "123456789012", arn: "arn:aws:iam::123456789012:root", userId: "123456789012" });
    expect(check).toMatchObject({ status: "fail", fix: expect.stringMatching(/IAM role or IAM user/) as unknown });
  });
});
