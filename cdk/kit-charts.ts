/**
 * The one call that puts charts/ (cdk8s) on the cluster: maps the EKS stack's endpoints to the charts'
 * options. Deploy-time values (bootstrap brokers, image URI) stay CDK tokens inside the manifests.
 */
import type { Chart } from "cdk8s";
import { buildCharts, type KitCharts } from "../charts/index.ts";
import { cassandraPorts } from "./servers/ports.ts";
import type { ChartsBuilder } from "./eks-stack.ts";

export const kitCharts: ChartsBuilder = (app, plan, endpoints) => {
  const charts: KitCharts = buildCharts(app, plan, {
    endpoints: {
      kafkaBrokers: endpoints.kafkaBootstrapBrokers,
      cassandraContactPoints: endpoints.cassandraContactPoints.map((ip) => `${ip}:${cassandraPorts.cql}`).join(","),
      cassandraLocalDataCenter: endpoints.cassandraLocalDatacenter,
      // MSK: TLS + IAM auth with the pods' EKS Pod Identity credentials; Cassandra: the detector role.
      kafkaAuth: "aws-iam",
      awsRegion: endpoints.region,
      cassandraUsername: endpoints.cassandraUsername,
      cassandraPasswordSecretArn: endpoints.cassandraPasswordSecretArn,
      cassandraTlsCaSecretArn: endpoints.cassandraTlsCaSecretArn,
      cassandraExporterHosts: endpoints.cassandraNodeAddresses,
      kafkaMonitoringHosts: endpoints.kafkaBrokerHosts,
      dataPlaneCidrs: endpoints.dataPlaneCidrs,
    },
    app: { image: endpoints.image, revision: endpoints.imageTag },
  });
  return Object.values(charts) as Chart[];
};
