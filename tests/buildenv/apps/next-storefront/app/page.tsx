export const dynamic = "force-dynamic";

export default function Home() {
  return (
    <main>
      <img src="/logo.svg" alt="Storefront" width={64} height={64} />
      <h1>Storefront</h1>
      <p>Rendered at {new Date().toISOString()}</p>
    </main>
  );
}
