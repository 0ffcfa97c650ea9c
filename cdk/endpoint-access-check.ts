/**
 * A cdk-nag-like validation plugin for what cdk-nag misses: its EKS rules (AwsSolutions-EKS1/EKS2) match the
 * `aws-eks` (v1) custom resource, not the native `AWS::EKS::Cluster` that `aws-eks-v2` synthesizes, so an API
 * endpoint open to the whole internet passed unflagged. This reads every synthesized template and
 * fails synth for a cluster whose public endpoint admits 0.0.0.0/0 — explicitly, or by CloudFormation's
 * defaults (public access on, CIDRs 0.0.0.0/0 when the properties are absent).
 */
import { readFileSync } from "node:fs";
import type { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolatingResource } from "aws-cdk-lib";

export const publicEndpointRule = "Kit-EKS-PublicEndpointOpen";

interface ClusterVpcConfig {
  EndpointPublicAccess?: unknown;
  PublicAccessCidrs?: unknown;
}

/** Why a cluster's endpoint is open to everyone, or undefined if it is private or limited to named CIDRs. */
export function openEndpointReason(vpcConfig: ClusterVpcConfig | undefined): string | undefined {
  const publicAccess = vpcConfig?.EndpointPublicAccess ?? true; // CloudFormation's default
  if (publicAccess === false || publicAccess === "false") return undefined;
  const cidrs = vpcConfig?.PublicAccessCidrs;
  if (cidrs === undefined) return "the endpoint is public and PublicAccessCidrs is absent (CloudFormation then admits 0.0.0.0/0)";
  if (!Array.isArray(cidrs)) return "PublicAccessCidrs is not a literal list, so it cannot be shown to exclude 0.0.0.0/0";
  const open = cidrs.filter((c) => typeof c !== "string" || c.endsWith("/0"));
  return open.length > 0 ? `PublicAccessCidrs admits the whole internet (${JSON.stringify(open)})` : undefined;
}

export class EndpointAccessChecks implements IPolicyValidationPlugin {
  readonly name = "anomaly-kit-endpoint-access";
  readonly ruleIds = [publicEndpointRule];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violatingResources: PolicyViolatingResource[] = [];
    for (const templatePath of context.templatePaths) {
      const template = JSON.parse(readFileSync(templatePath, "utf8")) as {
        Resources?: Record<string, { Type: string; Properties?: { ResourcesVpcConfig?: ClusterVpcConfig } }>;
      };
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (resource.Type !== "AWS::EKS::Cluster") continue;
        if (openEndpointReason(resource.Properties?.ResourcesVpcConfig) === undefined) continue;
        violatingResources.push({ resourceLogicalId: logicalId, templatePath, locations: ["Properties.ResourcesVpcConfig"] });
      }
    }
    const violations =
      violatingResources.length === 0
        ? []
        : [
            {
              ruleName: publicEndpointRule,
              description: "The EKS API endpoint is reachable from the whole internet.",
              fix: "Give -c apiAccessCidrs=<your CIDRs> (public endpoint limited to them) or none (private endpoint only).",
              violatingResources,
            },
          ];
    return { success: violations.length === 0, violations };
  }
}
