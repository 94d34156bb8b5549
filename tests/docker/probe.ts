/**
 * Runs DockerClient in a separate process, so tests can check it under the product's exact
 * permissions (`-P=packrat`) or as another user: `probe.ts inspect NAME` prints the inspect
 * result as JSON; on a Packrat error it prints `ERROR <class>: <message>` and exits 1.
 *
 * @module
 */
import { DockerClient } from "../../src/docker/client.ts";
import { PackratError } from "../../src/errors.ts";

const [command, name] = Deno.args;
try {
  using docker = new DockerClient();
  if (command === "inspect") {
    console.log(JSON.stringify(await docker.inspect(name)));
  } else if (command === "ping") {
    console.log(await docker.ping());
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  if (!(error instanceof PackratError)) throw error;
  console.log(`ERROR ${error.name}: ${error.message}`);
  Deno.exit(1);
}
