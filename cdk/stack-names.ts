/**
 * The kit's stacks by name (CloudFormation's, and the cloud assembly's template files): the experiment id and
 * the stack's part. No CDK import: the experiment runner reads it to find a deployed stack.
 */
export const kitStackNames = (experimentId: string) =>
  ({
    network: `${experimentId}-network`,
    kafka: `${experimentId}-kafka`,
    cassandra: `${experimentId}-cassandra`,
    eks: `${experimentId}-eks`,
  }) as const;
