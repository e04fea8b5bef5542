// What the bundle gets for '@modelcontextprotocol/server/_shims' (see scripts/bundle.mjs): the
// SDK's Node shims, except that its JSON Schema validator (ajv with its formats, whose modules
// all run when loaded) is loaded on the first schema it validates rather than when the server
// starts. Every MCP server makes one; it is used only when a client answers a form (the
// confirmation of a mass delete, the choice of a calendar), which most sessions never see.
import process from 'node:process';

/** The SDK's default validator (AjvJsonSchemaValidator), made on first use. */
export class DefaultJsonSchemaValidator {
  #ajv;
  #real;

  constructor(ajv) {
    this.#ajv = ajv;
  }

  #validator() {
    // require(), not import: getValidator is synchronous. The bundler puts the module into the
    // bundle, to be run on this first call.
    this.#real ??= new (require('@modelcontextprotocol/server/validators/ajv').AjvJsonSchemaValidator)(this.#ajv);
    return this.#real;
  }

  get ajv() {
    return this.#validator().ajv;
  }

  getValidator(schema) {
    return this.#validator().getValidator(schema);
  }
}

export { process };
