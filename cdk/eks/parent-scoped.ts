/**
 * The base of the EKS stack's parts. A part creates its resources in the scope it is added to, not under
 * itself: they keep the construct paths, and so the logical ids, they had when the stack made them directly,
 * and a deployed stack updates in place (a new logical id would make CloudFormation replace the resource, the
 * cluster included). The part's own node synthesizes nothing, so nothing may depend on the part itself: a
 * dependency goes to the resources it exposes.
 */
import { Construct } from "constructs";

export abstract class ParentScoped extends Construct {
  /** Where the part's resources go: the scope the part was added to. */
  protected readonly parent: Construct;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.parent = scope;
  }
}
