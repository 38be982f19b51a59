// Types for bin/launch.js, which stays plain JavaScript: it runs before anything is compiled.
export declare const ROOT: string;
/** Why dist/ is not what the sources say, or null when it is current (or there are no sources). */
export declare function staleReason(root?: string): string | null;
export declare function registerSourceLoader(): Promise<void>;
export declare function launch(module: string): Promise<unknown>;
