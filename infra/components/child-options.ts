import type * as pulumi from '@pulumi/pulumi';

/**
 * Options for a component's children: parented to the component and
 * depending on whatever the component was told to depend on. Pulumi does not
 * pass a component's `dependsOn` down to its children, and it is the children
 * that call the Google APIs (which must be enabled first).
 */
export function childOptions(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  const inherited = toArray(opts?.dependsOn);
  const own = toArray(extra.dependsOn);
  return { ...extra, parent, dependsOn: [...inherited, ...own] };
}

function toArray(value: pulumi.ComponentResourceOptions['dependsOn']): pulumi.Input<pulumi.Resource>[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as pulumi.Input<pulumi.Resource>];
}
