import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface ConsoleLoadBalancerArgs {
  project: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The Cloud Run service behind it. */
  serviceName: pulumi.Input<string>;
  /** A domain gets a Google-managed certificate, HTTPS and an HTTP→HTTPS redirect. */
  domain?: string;
  /** Cloud Armor policy to attach to the backend; undefined when turned off. */
  securityPolicy?: pulumi.Input<string>;
}

/**
 * A global external Application Load Balancer in front of the console:
 * serverless NEG → backend service (Cloud Armor, request logging) → URL map.
 * With a domain: managed certificate, HTTPS with a MODERN TLS 1.2+ policy,
 * and port 80 only redirects. Without one there is no certificate to serve,
 * so it listens on HTTP at its IP and says so in a warning.
 */
export class ConsoleLoadBalancer extends pulumi.ComponentResource {
  readonly ipAddress: pulumi.Output<string>;
  /** `https://<domain>` or `http://<ip>`. */
  readonly url: pulumi.Output<string>;
  readonly backendService: gcp.compute.BackendService;

  constructor(name: string, args: ConsoleLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ConsoleLoadBalancer', name, {}, opts);
    const child = childOptions(this, opts);
    const project = args.project;
    const scheme = 'EXTERNAL_MANAGED';

    const address = new gcp.compute.GlobalAddress(`${name}-ip`, { project, addressType: 'EXTERNAL', ipVersion: 'IPV4' }, child);
    const neg = new gcp.compute.RegionNetworkEndpointGroup(
      `${name}-neg`,
      { project, region: args.region, networkEndpointType: 'SERVERLESS', cloudRun: { service: args.serviceName } },
      child,
    );
    this.backendService = new gcp.compute.BackendService(
      `${name}-backend`,
      {
        project,
        loadBalancingScheme: scheme,
        protocol: 'HTTPS',
        backends: [{ group: neg.id }],
        securityPolicy: args.securityPolicy,
        logConfig: { enable: true, sampleRate: 1 },
      },
      child,
    );
    const urlMap = new gcp.compute.URLMap(`${name}-urlmap`, { project, defaultService: this.backendService.id }, child);

    if (args.domain) {
      const certificate = new gcp.compute.ManagedSslCertificate(`${name}-cert`, { project, managed: { domains: [args.domain] } }, child);
      const sslPolicy = new gcp.compute.SSLPolicy(`${name}-tls`, { project, profile: 'MODERN', minTlsVersion: 'TLS_1_2' }, child);
      const httpsProxy = new gcp.compute.TargetHttpsProxy(
        `${name}-https-proxy`,
        { project, urlMap: urlMap.id, sslCertificates: [certificate.id], sslPolicy: sslPolicy.id },
        child,
      );
      new gcp.compute.GlobalForwardingRule(
        `${name}-https`,
        { project, target: httpsProxy.id, ipAddress: address.address, portRange: '443', loadBalancingScheme: scheme },
        child,
      );
      const redirect = new gcp.compute.URLMap(
        `${name}-redirect`,
        { project, defaultUrlRedirect: { httpsRedirect: true, stripQuery: false, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT' } },
        child,
      );
      const redirectProxy = new gcp.compute.TargetHttpProxy(`${name}-redirect-proxy`, { project, urlMap: redirect.id }, child);
      new gcp.compute.GlobalForwardingRule(
        `${name}-http`,
        { project, target: redirectProxy.id, ipAddress: address.address, portRange: '80', loadBalancingScheme: scheme },
        child,
      );
      this.url = pulumi.output(`https://${args.domain}`);
    } else {
      pulumi.log.warn(
        'pipekit:domain is not set, so the console is served over plain HTTP on the load balancer IP. ' +
          'Set `pulumi config set pipekit:domain console.example.com` and point an A record at the `consoleIp` output for HTTPS.',
        this,
      );
      const httpProxy = new gcp.compute.TargetHttpProxy(`${name}-http-proxy`, { project, urlMap: urlMap.id }, child);
      new gcp.compute.GlobalForwardingRule(
        `${name}-http`,
        { project, target: httpProxy.id, ipAddress: address.address, portRange: '80', loadBalancingScheme: scheme },
        child,
      );
      this.url = pulumi.interpolate`http://${address.address}`;
    }
    this.ipAddress = address.address;
    this.registerOutputs({ ipAddress: this.ipAddress, url: this.url });
  }
}
