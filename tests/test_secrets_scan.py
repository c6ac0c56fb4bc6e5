"""The secret scanner: what it must catch, what it must leave alone, and that it never echoes a secret.

The sample secrets are assembled from pieces so that this file itself does not look like a leak
to other scanners; they are random strings, not real credentials.
"""

from __future__ import annotations

import json

import pytest

from n2a_gitops.notebook import convert as notebook
from n2a_gitops.notebook.secrets_scan import Finding, scan

R40 = "q7Z2xW9vK4mN8pL3rT6yB1cD5fG0hJ2kS9uV4wXa"  # random-looking, 40 characters
AWS = "AKIA" + "Z7QW3RTY5UIO2PAS"
GITHUB = "ghp" + "_" + R40[:36]
GITHUB_FINE = "github_pat_" + "11ABCDEFG0" + R40 + "_" + R40[:20]
GITLAB = "glpat" + "-" + R40[:20]
SLACK = "xoxb" + "-123456789012-1234567890123-" + R40[:24]
SLACK_HOOK = "https://hooks.slack.com/services/" + "T0ABCD123/B0ABCD456/" + R40[:24]
OPENAI = "sk" + "-proj-" + R40
HF = "hf" + "_" + R40[:34]
GOOGLE = "AIza" + "Sy" + R40[:33]
JWT = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
PRIVATE = "-----BEGIN RSA " + "PRIVATE KEY-----"
HEX32 = "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c"

POSITIVES = [
    (f'aws_access_key_id = "{AWS}"', "AWS access key", AWS),
    (f'token = "{GITHUB}"', "GitHub token", GITHUB),
    (f"headers = {{'Authorization': 'token {GITHUB_FINE}'}}", "GitHub token", GITHUB_FINE),
    (f'gl = gitlab.Gitlab(url, private_token="{GITLAB}")', "GitLab token", GITLAB),
    (f'client = WebClient(token="{SLACK}")', "Slack token", SLACK),
    (f'requests.post("{SLACK_HOOK}", json=msg)', "Slack webhook", SLACK_HOOK),
    (f'openai.api_key = "{OPENAI}"', "API key (sk-)", OPENAI),
    (f'login("{HF}")', "Hugging Face token", HF),
    (f'genai.configure(api_key="{GOOGLE}")', "Google API key", GOOGLE),
    (f'auth = "Bearer {JWT}"', "JWT", JWT),
    (PRIVATE, "private key", None),
    ('engine = create_engine("postgresql://app:S3cr3tPassw0rd@db:5432/sales")', "password in URL", "S3cr3tPassw0rd"),
    (f'API_KEY = "{HEX32}"', "hard-coded API_KEY", HEX32),
    (f'cfg = {{"client_secret": "{HEX32}"}}', "hard-coded client_secret", HEX32),
    ('db_password = "Tr0ub4dor&3x"', "hard-coded db_password", "Tr0ub4dor&3x"),
    (f'client = Client(accessToken="{R40}")', "hard-coded accessToken", R40),
    (f'if pwd == "{HEX32}":', "hard-coded pwd", HEX32),
]


@pytest.mark.parametrize("line, kind, secret", POSITIVES, ids=[p[1] for p in POSITIVES])
def test_finds_secrets(line, kind, secret):
    findings = scan(f"import os\n\n{line}\nprint('done')\n")
    assert [(f.line, f.kind) for f in findings] == [(3, kind)]
    if secret:  # the excerpt shows where, never the secret itself
        assert secret not in findings[0].excerpt and secret not in str(findings[0])
        assert "****" in findings[0].excerpt


NEGATIVES = [
    'api_key = os.environ["API_KEY"]',
    'token = os.getenv("HF_TOKEN", "")',
    'password = "changeme"',
    'api_key = "<your-api-key>"',
    'OPENAI_API_KEY = "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
    'token = "${GITHUB_TOKEN}"',
    'secret_key = "{{ secret_key }}"',
    'password = "********"',
    'password = "hunter2"',
    'tokenizer = AutoTokenizer.from_pretrained("bert-base-multilingual-uncased")',
    "max_tokens = 256",
    'key = "7c2b9e41d0a35f86"',
    'token_type = "Bearer"',
    'secret_name = "app-credentials"',
    'secret_name = "my-app-credentials-production-v2"',
    'token_env = "HUGGINGFACE_HUB_TOKEN_VALUE_2"',
    'API_KEY = "OPENAI_API_KEY_FOR_PRODUCTION"',
    'password_file = "/run/secrets/db-password"',
    'api_key_url = "https://platform.example.com/account/api-keys"',
    'engine = create_engine(f"postgresql://app:{password}@db:5432/sales")',
    'url = "https://user:${PASSWORD}@example.com/"',
    'password = "correct horse battery staple"',
    'model = "sk-learn-classifier"',
    'label = "Hugging Face token (hf_...)"',
    'commit = "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e"',
]


@pytest.mark.parametrize("line", NEGATIVES)
def test_leaves_ordinary_code_alone(line):
    assert scan(line + "\n") == []


def test_one_finding_per_secret_and_correct_lines():
    text = f'x = 1\nOPENAI_API_KEY = "{OPENAI}"\n\n\nHF_TOKEN = "{HF}"  # for the model\n'
    findings = scan(text)
    assert [(f.line, f.kind) for f in findings] == [(2, "API key (sk-)"), (5, "Hugging Face token")]


def test_private_key_block_reports_the_header_only():
    body = "MIIEowIBAAKCAQEA" + R40 + R40
    text = f'KEY = """{PRIVATE}\n{body}\n-----END RSA PRIVATE KEY-----"""\n'
    findings = scan(text)
    assert [(f.line, f.kind) for f in findings] == [(1, "private key")]
    assert body not in str(findings)


def test_finding_is_printable():
    finding = scan(f'token = "{GITHUB}"')[0]
    assert isinstance(finding, Finding)
    assert str(finding).startswith("line 1: GitHub token: token = ")


def test_scans_converted_notebooks_and_their_json(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo"),
        nbformat.v4.new_code_cell("import os\nHF_TOKEN = os.environ['HF_TOKEN']"),
        nbformat.v4.new_code_cell(f'api_key = "{HEX32}"\nprint(api_key)'),
    ]
    path = tmp_path / "nb_secret.ipynb"
    nbformat.write(nb, str(path))
    converted = notebook.convert(path)
    in_script = scan(converted.source)
    assert [f.kind for f in in_script] == ["hard-coded api_key"]
    assert converted.source.splitlines()[in_script[0].line - 1].startswith("api_key = ")
    # the notebook file itself (JSON, quotes escaped) is caught too: skipped cells live there
    in_json = scan(path.read_text())
    assert [f.kind for f in in_json] == ["hard-coded api_key"]
    assert json.loads(path.read_text())  # unchanged, still a notebook
