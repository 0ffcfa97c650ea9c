/**
 * Teardown that leaves nothing billing: an aspect that turns every Retain/Snapshot deletion or
 * update-replace policy into Delete, for resources we make and those aws-cdk-lib makes for us (Lambda log
 * groups of custom-resource providers default to Retain). The template tests assert the result.
 */
import { CfnDeletionPolicy, CfnResource, type IAspect } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

const keeps = new Set<CfnDeletionPolicy | undefined>([
  CfnDeletionPolicy.RETAIN,
  CfnDeletionPolicy.SNAPSHOT,
  CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE,
]);

export class DeleteOnTeardown implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    if (keeps.has(node.cfnOptions.deletionPolicy)) node.cfnOptions.deletionPolicy = CfnDeletionPolicy.DELETE;
    if (keeps.has(node.cfnOptions.updateReplacePolicy)) node.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.DELETE;
  }
}
