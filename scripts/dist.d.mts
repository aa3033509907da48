/** Types of scripts/dist.mjs for the tests that import it. */
export declare function electronBinaryProblem(root: string): string | null;
export declare function builderFailedLine(code: number): string;
