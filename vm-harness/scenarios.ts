import type { BuiltImage } from './image.js';
export async function runScenarios(_img: BuiltImage): Promise<number> { return 1; }
