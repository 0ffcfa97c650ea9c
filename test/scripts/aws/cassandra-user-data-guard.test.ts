/**
 * The guard before a deploy onto a running experiment, against CloudFormation's recorded GetTemplate answers
 * (the deployed template, or the error for a stack that does not exist) replayed to the real SDK client, with
 * the new template from a real synth of the kit. Growing 3 → 6 changes no node's user data and passes; user
 * data that an older version of the code wrote (other cassandra.yaml, sysctl and script lines), or another
 * instance type, is refused, naming the nodes and the files or property, unless the nodes' replacement is accepted.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cassandraLogicalId } from "../../../cdk/cassandra-nodes.ts";
import { userDataScript, scriptItself } from "../../../cdk/cassandra-user-data-files.ts";
import { compressedUserData } from "../../../cdk/cassandra-user-data.ts";
import { kitStackNames } from "../../../cdk/stack-names.ts";
import {
  CassandraUserDataChangeError,
  guardCassandraUserData,
  replaceCassandraNodesFlag,
  type Template,
} from "../../../scripts/aws/cassandra-user-data-guard.ts";
import { recorded } from "../../recorded/recorded.ts";
import { useReplayServer, xmlReply, type Exchange } from "../../recorded/replay-server.ts";
import { synthKit, type CfnTemplate } from "../../cdk/kit-synth.ts";

const { server, ctx } = useReplayServer();
const experimentId = "exp-a";
const stackName = kitStackNames(experimentId).cassandra;

const cassandraTemplate = (nodes: number): CfnTemplate => {
  const { templates } = synthKit({ cassandraNodes: nodes, experimentId }, { nag: false });
  return templates[`${stackName}.template.json`]!;
};

let stage3: CfnTemplate;
let stage6: CfnTemplate;
beforeAll(() => {
  stage3 = cassandraTemplate(3);
  stage6 = cassandraTemplate(6);
}, 180_000);

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** The recorded GetTemplate answer, holding `template` as the deployed stack's body. */
const getTemplate = (template: Template): Exchange => ({
  match: "GetTemplate",
  when: (req) => req.form.get("StackName") === stackName,
  ...xmlReply(
    recorded("cloudformation/GetTemplate.xml").replace(
      /<TemplateBody>[\s\S]*<\/TemplateBody>/,
      `<TemplateBody>${xmlEscape(JSON.stringify(template))}</TemplateBody>`,
    ),
  ),
});

/** `template` with the user data of `nodes` rewritten by `edit` (as an older version of the code wrote it). */
function withOldUserData(template: CfnTemplate, nodes: readonly string[], edit: (script: string, node: string) => string): CfnTemplate {
  const copy = structuredClone(template);
  for (const node of nodes) {
    const props = copy.Resources[node]!.Properties!;
    const script = userDataScript(node, props.UserData);
    const edited = edit(script, node);
    expect(edited, node).not.toBe(script);
    props.UserData = compressedUserData(edited);
  }
  return copy;
}

const logs: string[] = [];
const log = (m: string) => logs.push(m);

describe("Cassandra user-data guard", () => {
  it("the synth gives stage 3 three nodes and stage 6 six, and the first three identical", () => {
    const instances = (t: CfnTemplate) => Object.keys(t.Resources).filter((id) => t.Resources[id]!.Type === "AWS::EC2::Instance");
    expect(instances(stage3)).toHaveLength(3);
    expect(instances(stage6)).toHaveLength(6);
    for (const id of instances(stage3))
      expect(stage6.Resources[id]!.Properties!.UserData, id).toEqual(stage3.Resources[id]!.Properties!.UserData);
  });

  it("lets a stage grow 3 → 6 when no running node's user data changes", async () => {
    server.add(getTemplate(stage3));
    await expect(guardCassandraUserData(ctx, { stackName, next: stage6, replaceNodes: false, log })).resolves.toEqual([]);
    expect(server.keys()).toEqual(["GetTemplate"]);
  });

  it("refuses a change to running nodes' user data, naming the nodes and the files whose text changed", async () => {
    const [n1, n2, n3] = [0, 1, 2].map(cassandraLogicalId);
    const deployed = withOldUserData(stage3, [n1!, n2!, n3!], (script, node) => {
      let s = script.replace(/^num_tokens: 16$/m, "num_tokens: 256");
      if (node === n2) s = s.replace("vm.swappiness = 1\n", "vm.swappiness = 10\n").replace(/sleep 15$/m, "sleep 10");
      return s;
    });
    server.add(getTemplate(deployed));
    const error = await guardCassandraUserData(ctx, { stackName, next: stage6, replaceNodes: false, log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CassandraUserDataChangeError);
    const refused = error as CassandraUserDataChangeError;
    expect(refused.changes).toEqual([
      { node: n1, files: ["/etc/cassandra/cassandra.yaml"], properties: [] },
      { node: n2, files: [scriptItself, "/etc/cassandra/cassandra.yaml", "/etc/sysctl.d/60-cassandra.conf"], properties: [] },
      { node: n3, files: ["/etc/cassandra/cassandra.yaml"], properties: [] },
    ]);
    expect(refused.message).toContain(`${n2} (${scriptItself}, /etc/cassandra/cassandra.yaml, /etc/sysctl.d/60-cassandra.conf)`);
    expect(refused.message).toContain(replaceCassandraNodesFlag);
    expect(refused.message).toContain(stackName);
  });

  it(`deploys the change with ${replaceCassandraNodesFlag}, saying which nodes it touches`, async () => {
    const n1 = cassandraLogicalId(0);
    const deployed = withOldUserData(stage3, [n1], (s) => s.replace(/^num_tokens: 16$/m, "num_tokens: 256"));
    server.add(getTemplate(deployed));
    logs.length = 0;
    const changes = await guardCassandraUserData(ctx, { stackName, next: stage6, replaceNodes: true, log });
    expect(changes).toEqual([{ node: n1, files: ["/etc/cassandra/cassandra.yaml"], properties: [] }]);
    expect(logs).toEqual([
      `${replaceCassandraNodesFlag}: deploying a user-data change to 1 Cassandra node(s): ${n1} (/etc/cassandra/cassandra.yaml)`,
    ]);
  });

  it("refuses another instance type for running nodes (CloudFormation stops them to change it), naming the property", async () => {
    const deployed = structuredClone(stage3);
    const nodes = [0, 1, 2].map(cassandraLogicalId);
    for (const node of nodes) deployed.Resources[node]!.Properties!.InstanceType = "i3.xlarge";
    expect(stage6.Resources[nodes[0]!]!.Properties!.InstanceType).not.toBe("i3.xlarge");
    server.add(getTemplate(deployed));
    const error = (await guardCassandraUserData(ctx, { stackName, next: stage6, replaceNodes: false, log }).catch(
      (e: unknown) => e,
    )) as CassandraUserDataChangeError;
    expect(error).toBeInstanceOf(CassandraUserDataChangeError);
    expect(error.changes).toEqual(nodes.map((node) => ({ node, files: [], properties: ["InstanceType"] })));
    expect(error.message).toContain(`${nodes[0]!} (property InstanceType)`);
  });

  it("passes the first deploy of an experiment (CloudFormation: the stack does not exist)", async () => {
    server.add({ match: "GetTemplate", ...xmlReply(recorded("cloudformation/GetTemplate.no-such-stack.xml"), 400) });
    logs.length = 0;
    await expect(guardCassandraUserData(ctx, { stackName, next: stage3, replaceNodes: false, log })).resolves.toEqual([]);
    expect(logs).toEqual([`${stackName} is not deployed yet: no running Cassandra node to compare`]);
  });

  it("refuses deployed user data it cannot read, naming the node", async () => {
    const n1 = cassandraLogicalId(0);
    const deployed = structuredClone(stage3);
    deployed.Resources[n1]!.Properties!.UserData = { "Fn::Base64": "#!/bin/bash" };
    server.add(getTemplate(deployed));
    await expect(guardCassandraUserData(ctx, { stackName, next: stage6, replaceNodes: false, log })).rejects.toThrow(
      `deployed ${n1}: UserData {"Fn::Base64":"#!/bin/bash"} is not allowed; allowed: a literal base64 string of gzip'd text`,
    );
  });
});
