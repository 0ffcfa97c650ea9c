/**
 * Before a deploy onto an experiment that already runs: does the new Cassandra template change the user data of
 * a node that exists? CloudFormation applies a changed UserData by stopping and starting the instance: its NVMe
 * instance store comes back empty, cloud-init does not run the first-boot script again, and Cassandra stays
 * down on that node. The same holds for the few other properties whose update stops or replaces an instance
 * (another instance type, say). Growing adds nodes and changes none, so any change found here is refused, naming
 * the nodes, the files whose text changed and those properties, unless the caller accepts it
 * (`--replace-cassandra-nodes`).
 *
 * The deployed side is CloudFormation's own copy of the template (GetTemplate): it is what CloudFormation
 * compares the new template with, so a difference here is exactly a difference it would apply.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudFormationClient, GetTemplateCommand } from "@aws-sdk/client-cloudformation";
import { changedFiles, userDataScript } from "../../cdk/cassandra-user-data-files.ts";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";

/** The parts of a CloudFormation template read here. */
export interface Template {
  readonly Resources?: Readonly<Record<string, { readonly Type?: string; readonly Properties?: Readonly<Record<string, unknown>> }>>;
}

/**
 * One running node the deploy would stop or replace: the files of its user data (or the script itself) whose
 * text differs, and the other properties that changed among those whose update stops or replaces an instance.
 */
export interface UserDataChange {
  readonly node: string;
  readonly files: readonly string[];
  readonly properties: readonly string[];
}

/**
 * The other AWS::EC2::Instance properties whose update CloudFormation applies by stopping the instance ("some
 * interruptions": InstanceType, EbsOptimized) or by replacing it (the rest), per its resource reference.
 */
export const interruptingProperties = [
  "AvailabilityZone",
  "BlockDeviceMappings",
  "EbsOptimized",
  "ImageId",
  "InstanceType",
  "PrivateIpAddress",
  "SubnetId",
] as const;

export const replaceCassandraNodesFlag = "--replace-cassandra-nodes";

export class CassandraUserDataChangeError extends Error {
  /** Nothing was deployed: the experiment runner leaves the running experiment as it was. */
  readonly refusedBeforeChange = true;
  readonly stackName: string;
  readonly changes: readonly UserDataChange[];

  constructor(stackName: string, changes: readonly UserDataChange[]) {
    super(
      `refusing to deploy: it would change the user data or instance of ${changes.length} running Cassandra node(s) of stack ${stackName}, ` +
        `and CloudFormation would stop and start or replace them (instance store emptied, the first boot not run again, Cassandra down): ` +
        `${describeChanges(changes)}. Deploy the code the experiment was started with, or pass ${replaceCassandraNodesFlag} to accept losing those nodes' data`,
    );
    this.name = "CassandraUserDataChangeError";
    this.stackName = stackName;
    this.changes = changes;
  }
}

export const describeChanges = (changes: readonly UserDataChange[]): string =>
  changes.map((c) => `${c.node} (${[...c.files, ...c.properties.map((p) => `property ${p}`)].join(", ")})`).join("; ");

/** The properties of each EC2 instance of a template, by logical id. */
function instancesOf(template: Template): Map<string, Readonly<Record<string, unknown>>> {
  return new Map(
    Object.entries(template.Resources ?? {})
      .filter(([, r]) => r.Type === "AWS::EC2::Instance")
      .map(([id, r]) => [id, r.Properties ?? {}]),
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The instances present in both templates that the deploy would stop or replace; instances only in `next` are new nodes. */
export function userDataChanges(deployed: Template, next: Template): UserDataChange[] {
  const before = instancesOf(deployed);
  const changes: UserDataChange[] = [];
  for (const [node, after] of instancesOf(next)) {
    const old = before.get(node);
    if (old === undefined) continue;
    let files: string[] = [];
    if (!same(old.UserData, after.UserData)) {
      files = changedFiles(userDataScript(`deployed ${node}`, old.UserData), userDataScript(`new ${node}`, after.UserData));
      // Same text, other bytes (another compressor): CloudFormation still sees a change.
      if (files.length === 0) files = ["(same text, other compressed bytes)"];
    }
    const properties = interruptingProperties.filter((p) => !same(old[p], after[p]));
    if (files.length > 0 || properties.length > 0) changes.push({ node, files, properties });
  }
  return changes;
}

/** The template CloudFormation holds for a stack; `undefined` when the stack does not exist. */
export async function deployedTemplate(ctx: AwsContext, stackName: string): Promise<Template | undefined> {
  const client = new CloudFormationClient(clientConfig(ctx));
  try {
    const { TemplateBody } = await client.send(new GetTemplateCommand({ StackName: stackName }));
    if (TemplateBody === undefined) throw new Error(`GetTemplate ${stackName}: no TemplateBody in the answer`);
    return JSON.parse(TemplateBody) as Template;
  } catch (error) {
    if (errorName(error) === "ValidationError" && /does not exist/.test(errorMessage(error))) return undefined;
    throw error;
  } finally {
    client.destroy();
  }
}

/** A stack's template in a cloud assembly (`cdk synth --output <dir>`). */
export const assemblyTemplate = (assemblyDir: string, stackName: string): Template =>
  JSON.parse(readFileSync(join(assemblyDir, `${stackName}.template.json`), "utf8")) as Template;

export interface GuardOptions {
  readonly stackName: string;
  /** The template about to be deployed. */
  readonly next: Template;
  /** Accept the changes (the nodes named lose their data). */
  readonly replaceNodes: boolean;
  readonly log: (message: string) => void;
}

/**
 * Compares the template about to be deployed with the deployed one; throws CassandraUserDataChangeError on a
 * change unless `replaceNodes`. Returns the changes found (none for a stack not yet deployed).
 */
export async function guardCassandraUserData(ctx: AwsContext, o: GuardOptions): Promise<UserDataChange[]> {
  const deployed = await deployedTemplate(ctx, o.stackName);
  if (deployed === undefined) {
    o.log(`${o.stackName} is not deployed yet: no running Cassandra node to compare`);
    return [];
  }
  const changes = userDataChanges(deployed, o.next);
  if (changes.length === 0) return changes;
  if (!o.replaceNodes) throw new CassandraUserDataChangeError(o.stackName, changes);
  o.log(`${replaceCassandraNodesFlag}: deploying a user-data change to ${changes.length} Cassandra node(s): ${describeChanges(changes)}`);
  return changes;
}
