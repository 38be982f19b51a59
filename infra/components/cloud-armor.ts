import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** Cloud Armor takes at most 10 source ranges per rule. */
const RANGES_PER_RULE = 10;
/** The default rule's fixed priority (the lowest). */
export const DEFAULT_RULE_PRIORITY = 2147483647;

/** Preconfigured WAF rule sets applied before the allowlist (OWASP CRS 3.3). */
export const WAF_RULES = {
  'sqli-v33-stable': 'SQL injection',
  'xss-v33-stable': 'cross-site scripting',
} as const;

export interface CloudArmorPolicyArgs {
  project: pulumi.Input<string>;
  /** The only source ranges let through. */
  allowedCidrs: readonly string[];
  /** Requests per client IP per minute before answers turn into 429. */
  rateLimitPerMinute: number;
}

/**
 * The console's edge policy, most specific first: WAF rules (SQLi, XSS) deny
 * with 403; each allowlisted range is let through under a per-IP rate limit
 * (429 beyond it); everything else hits the default rule, deny 403. The
 * allowlist is explicit config, not "the IP of whoever ran apply".
 *
 * New and free-trial projects have a SECURITY_POLICIES quota of 0, so
 * creating this fails there with a quota error: request quota, or set
 * `pipekit:cloudArmor false` to deploy without it.
 */
export class CloudArmorPolicy extends pulumi.ComponentResource {
  readonly policy: gcp.compute.SecurityPolicy;
  readonly selfLink: pulumi.Output<string>;

  constructor(name: string, args: CloudArmorPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:CloudArmorPolicy', name, {}, opts);
    if (args.allowedCidrs.length === 0) {
      throw new Error('CloudArmorPolicy needs at least one allowed CIDR: with none, the default deny rule blocks everyone');
    }
    const waf = Object.entries(WAF_RULES).map(([ruleSet, what], i) => ({
      priority: 1000 + i,
      action: 'deny(403)',
      description: `block ${what} (${ruleSet})`,
      match: { expr: { expression: `evaluatePreconfiguredWaf('${ruleSet}', {'sensitivity': 1})` } },
    }));
    const allow = chunk(args.allowedCidrs, RANGES_PER_RULE).map((ranges, i) => ({
      priority: 2000 + i,
      action: 'throttle',
      description: 'allowlisted ranges, rate limited per client IP',
      match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ranges } },
      rateLimitOptions: {
        conformAction: 'allow',
        exceedAction: 'deny(429)',
        enforceOnKey: 'IP',
        rateLimitThreshold: { count: args.rateLimitPerMinute, intervalSec: 60 },
      },
    }));
    const defaultDeny = {
      priority: DEFAULT_RULE_PRIORITY,
      action: 'deny(403)',
      description: 'default: deny everything not allowed above',
      match: { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ['*'] } },
    };
    this.policy = new gcp.compute.SecurityPolicy(
      `${name}-policy`,
      {
        project: args.project,
        type: 'CLOUD_ARMOR',
        description: 'pipekit console: WAF, allowlist, rate limit, default deny',
        rules: [...waf, ...allow, defaultDeny],
      },
      childOptions(this, opts),
    );
    pulumi.log.info(
      'Cloud Armor policy: if `pulumi up` fails with "Quota SECURITY_POLICIES exceeded" (new and free-trial projects have 0), ' +
        'request quota in the console (IAM & Admin → Quotas) or set `pulumi config set pipekit:cloudArmor false`.',
      this,
    );
    this.selfLink = this.policy.selfLink;
    this.registerOutputs({ selfLink: this.selfLink });
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
