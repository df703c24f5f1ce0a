// Where the Blaxel Python SDK shim ships (python/sitecustomize.py), found from src/ and dist/ alike.
import { fileURLToPath } from 'node:url'

export const PYTHON_SHIM_DIR = fileURLToPath(new URL('../python', import.meta.url)).replace(/\/$/, '')
