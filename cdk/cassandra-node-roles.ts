/**
 * The Cassandra nodes' IAM roles, split by what each node's first boot does:
 * - node 0 (`SetupNodeRole`) makes the cluster's CA, stores it, runs the authentication set-up with the role
 *   passwords and publishes the CA certificate: it alone may write the two CA secrets and read the passwords;
 * - every other node (`NodeRole`) reads the CA (key and certificate) to sign its own certificate, and the
 *   published certificate to learn that the set-up has ended. It may write nothing.
 * A node that is not node 0 therefore cannot replace the CA every client trusts. It can still read the CA's key
 * for the cluster's whole life: nodes that join in a later stage sign their own certificate with it, and their
 * role is fixed when they launch.
 */
import { Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";

export interface CassandraNodeSecrets {
  readonly adminPassword: ISecret;
  readonly detectorPassword: ISecret;
  /** The CA's key and certificate. */
  readonly ca: ISecret;
  /** The CA certificate alone (public). */
  readonly caCertificate: ISecret;
}

const ssmManagedPolicy = "AmazonSSMManagedInstanceCore";

export class CassandraNodeRoles {
  /** Node 0's role: the only writer of the CA secrets. */
  readonly setupRole: iam.Role;
  /** Every other node's role: reads the CA, writes nothing. */
  readonly memberRole: iam.Role;
  readonly #setupProfile: iam.CfnInstanceProfile;
  readonly #memberProfile: iam.CfnInstanceProfile;

  /**
   * `stack`: the Cassandra stack. The roles are its direct children so the members' role and profile keep the
   * logical ids they had when all nodes shared them: the nodes launched with that profile keep it.
   */
  constructor(stack: Construct, secrets: CassandraNodeSecrets) {
    const role = (id: string, description: string) => {
      const r = new iam.Role(stack, id, {
        assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
        description,
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(ssmManagedPolicy)],
      });
      Validations.of(r).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${ssmManagedPolicy}]`,
        reason: "AWS's managed policy for Session Manager (our replacement for SSH) is the documented minimal set.",
      });
      return r;
    };
    this.setupRole = role(
      "SetupNodeRole",
      "Cassandra node 0: SSM Session Manager, the role passwords, making and publishing the cluster CA",
    );
    this.memberRole = role("NodeRole", "Cassandra nodes other than 0: SSM Session Manager, reading the cluster CA at first boot");

    secrets.adminPassword.grantRead(this.setupRole);
    secrets.detectorPassword.grantRead(this.setupRole);
    const caSecrets = [secrets.ca.secretArn, secrets.caCertificate.secretArn];
    // Nothing else may touch the two secrets: no update, delete or resource policy, for either role.
    this.setupRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], resources: caSecrets }),
    );
    this.memberRole.addToPolicy(new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: caSecrets }));
    this.#setupProfile = new iam.CfnInstanceProfile(stack, "SetupNodeInstanceProfile", { roles: [this.setupRole.roleName] });
    this.#memberProfile = new iam.CfnInstanceProfile(stack, "NodeInstanceProfile", { roles: [this.memberRole.roleName] });
  }

  /** The role of node `index` (node 0 runs the set-up). */
  roleOf(index: number): iam.Role {
    return index === 0 ? this.setupRole : this.memberRole;
  }

  /** The instance profile of node `index`. */
  profileOf(index: number): iam.CfnInstanceProfile {
    return index === 0 ? this.#setupProfile : this.#memberProfile;
  }
}
