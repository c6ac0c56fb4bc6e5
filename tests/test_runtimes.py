"""Framework detection and launch specs on the patterns notebook authors really write.

Code here reads as nbconvert leaves it: magics are get_ipython() calls, launch calls sit at the
end of a cell, guarded or not. Fast: nothing is installed or served (tests/test_preview.py does).
"""

from __future__ import annotations

import ast
import keyword
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from n2a_gitops import runtimes
from n2a_gitops.config import ALL_FRAMEWORKS
from n2a_gitops.errors import PolicyError, UsageError
from n2a_gitops.model import CONTAINER_PORT

ROOT = Path(__file__).resolve().parents[1]
PIP = "get_ipython().run_line_magic('pip', 'install -q {}')\n"


def choose(code, framework=None, allowed=None):
    return runtimes.choose(code, framework, allowed)


# -- the registry --------------------------------------------------------------------------------


def test_registry_covers_every_framework_n2a_yaml_knows_once():
    assert sorted(runtimes.names()) == sorted(ALL_FRAMEWORKS)
    assert len(set(runtimes.names())) == len(runtimes.REGISTRY)


def test_unknown_framework_lists_the_known_names():
    with pytest.raises(UsageError) as info:
        runtimes.get("nicegui")
    assert "nicegui" in info.value.message
    for name in ALL_FRAMEWORKS:
        assert name in info.value.fix


# -- gradio ----------------------------------------------------------------------------------------

GRADIO_GUARDED = (
    PIP.format("gradio")
    + """
import gradio as gr

def greet(name):
    return "Hello " + name

with gr.Blocks(title="Greeter") as ui:
    box = gr.Textbox()
    out = gr.Textbox()
    box.submit(greet, box, out)

if __name__ == "__main__":
    ui.launch(server_port=7860, share=True)
"""
)


def test_gradio_guarded_launch_with_hard_coded_port():
    rt, found = choose(GRADIO_GUARDED)
    assert rt.name == "gradio" and found.strong
    assert found.app_object == "ui"
    text = " | ".join(found.evidence)
    assert "imports gradio (line 3)" in text
    assert "app object `ui`" in text
    assert "guarded by `if __name__" in text
    assert "hard-coded port 7860" in text
    spec = rt.launch(found)
    assert spec.command == ["python", "n2a_gradio.py", str(CONTAINER_PORT)]
    assert spec.env["N2A_APP_OBJECT"] == "ui"
    assert spec.env["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert spec.probe.kind == "http" and spec.probe.path == "/config"
    assert "gradio" in spec.packages
    # The launcher disables the notebook's own launch() and launches on our port instead.
    launcher = spec.files["n2a_gradio.py"]
    assert "gr.Blocks.launch = _record" in launcher and "server_port=port" in launcher


def test_gradio_unguarded_launch_and_interface_named_anything():
    code = (
        "import gradio as gr\nmy_app_2 = gr.Interface(fn=str.upper, inputs='text', outputs='text')\nmy_app_2.launch()\n"
    )
    rt, found = choose(code)
    assert (rt.name, found.app_object) == ("gradio", "my_app_2")
    assert "unguarded" in " ".join(found.evidence)


def test_gradio_without_any_launch_call_still_serves():
    code = "from gradio import Blocks, Markdown\nwith Blocks() as demo:\n    Markdown('hi')\n"
    rt, found = choose(code)
    assert (rt.name, found.app_object, found.strong) == ("gradio", "demo", True)


def test_gradio_interface_launched_without_a_name():
    code = "import gradio as gr\ngr.Interface(fn=str.upper, inputs='text', outputs='text').launch(server_port=9999)\n"
    rt, found = choose(code)
    assert rt.name == "gradio" and found.strong and found.app_object is None
    assert "found when the app starts" in found.evidence[-1]
    assert "N2A_APP_OBJECT" not in rt.launch(found).env


# -- dash, flask, fastapi ---------------------------------------------------------------------------


def test_dash_run_server_removed_in_dash_3_is_reported_and_neutralised():
    code = (
        PIP.format("dash")
        + """
from dash import Dash, html
dashboard = Dash(__name__)
dashboard.layout = html.Div([html.H1("Sales")])
dashboard.run_server(debug=True, port=8050)
"""
    )
    rt, found = choose(code)
    assert (rt.name, found.app_object) == ("dash", "dashboard")
    assert any("removed in Dash 3" in e for e in found.evidence)
    spec = rt.launch(found)
    assert spec.command[:2] == ["gunicorn", "n2a_dash:server"]
    assert f"0.0.0.0:{CONTAINER_PORT}" in spec.command
    assert spec.probe.path == "/_dash-layout"
    assert set(spec.packages) >= {"dash", "gunicorn"}
    assert "dash.Dash.run_server = _ignored" in spec.files["n2a_dash.py"]


def test_dash_wins_over_the_flask_it_is_built_on():
    code = "import flask\nimport dash\nserver = flask.Flask(__name__)\napp = dash.Dash(__name__, server=server)\n"
    assert choose(code)[0].name == "dash"


def test_flask_debug_run_is_made_harmless_under_gunicorn():
    code = "from flask import Flask\nsite = Flask(__name__)\n@site.route('/')\ndef index():\n    return 'hi'\nsite.run(debug=True)\n"
    rt, found = choose(code)
    spec = rt.launch(found)
    assert rt.name == "flask"
    assert spec.command[:2] == ["gunicorn", "app:site"]
    assert spec.env["FLASK_RUN_FROM_CLI"] == "true"
    assert spec.probe.kind == "tcp"
    assert not spec.files


def test_flask_without_a_named_object_uses_the_finding_launcher():
    rt, found = choose("import flask\ndef make():\n    return flask.Flask('x')\napplication = make()\n")
    spec = rt.launch(found)
    assert rt.name == "flask" and not found.strong
    assert spec.command[1] == "n2a_flask:app" and "n2a_flask.py" in spec.files


def test_fastapi_uvicorn_run_in_the_notebook():
    code = (
        PIP.format("fastapi uvicorn")
        + """
from fastapi import FastAPI
import uvicorn, nest_asyncio
api = FastAPI()
@api.get("/")
def root():
    return {"ok": True}
nest_asyncio.apply()
uvicorn.run(api, host="127.0.0.1", port=8000)
"""
    )
    rt, found = choose(code)
    assert (rt.name, found.app_object) == ("fastapi", "api")
    assert any("uvicorn.run" in e and "hard-coded port 8000" in e for e in found.evidence)
    spec = rt.launch(found)
    assert spec.command[:2] == ["uvicorn", "n2a_fastapi:app"]
    assert spec.env["N2A_APP_OBJECT"] == "api"
    assert "uvicorn.run = lambda" in spec.files["n2a_fastapi.py"]


def test_fastapi_serving_a_mounted_gradio_app_is_fastapi():
    code = "import gradio as gr\nfrom fastapi import FastAPI\napp = FastAPI()\ndemo = gr.Blocks()\napp = gr.mount_gradio_app(app, demo, path='/ui')\n"
    assert choose(code)[0].name == "fastapi"


# -- streamlit, panel, bokeh, shiny, solara ---------------------------------------------------------


def test_streamlit_script():
    rt, found = choose("import streamlit as st\nst.title('Hi')\nst.write(1)\n")
    spec = rt.launch(found)
    assert rt.name == "streamlit"
    assert spec.command[:3] == ["streamlit", "run", "app.py"]
    assert spec.probe.path == "/_stcore/health"
    assert spec.env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"


def test_panel_servable_wins_over_bokeh_and_probes_liveness():
    code = "import panel as pn\nfrom bokeh.plotting import figure\np = figure()\npn.pane.Bokeh(p).servable()\n"
    rt, found = choose(code)
    spec = rt.launch(found)
    assert rt.name == "panel"
    assert spec.probe.path == "/liveness" and "--liveness" in spec.command
    assert "--index" in spec.command


@pytest.mark.parametrize("call", ["layout.show()", "pn.serve(layout)", "layout.servable()"])
def test_panel_guarded_launch_patterns(call):
    code = f"import panel as pn\nlayout = pn.Column('# hi')\nif __name__ == '__main__':\n    {call}\n"
    rt, found = choose(code)
    assert rt.name == "panel" and found.strong
    assert "guarded" in " ".join(found.evidence)


def test_bokeh_notebook_show_and_curdoc():
    for code in (
        "from bokeh.plotting import figure, show\np = figure()\nshow(p)\n",
        "from bokeh.io import curdoc\nfrom bokeh.models import Div\ncurdoc().add_root(Div(text='x'))\n",
    ):
        rt, found = choose(code)
        assert rt.name == "bokeh" and found.strong


def test_shiny_express_and_core_with_any_object_name():
    rt, found = choose("from shiny.express import ui\nui.h1('hi')\n")
    assert rt.name == "shiny" and rt.launch(found).command[:3] == ["shiny", "run", "app.py"]
    rt, found = choose("from shiny import App, ui\nmy_ui = ui.page_fluid()\nweb = App(my_ui, None)\n")
    assert rt.launch(found).command[:3] == ["shiny", "run", "app.py:web"]
    rt, found = choose("from shiny import App, ui\napp = App(ui.page_fluid(), None)\n")
    assert rt.launch(found).command[:3] == ["shiny", "run", "app.py"]


def test_solara_page_component():
    rt, found = choose("import solara\n@solara.component\ndef Page():\n    solara.Text('hi')\nPage()\n")
    spec = rt.launch(found)
    assert (rt.name, found.app_object) == ("solara", "Page")
    assert spec.probe.path == "/readyz" and "--production" in spec.command
    assert spec.packages == ["solara[assets]"]


# -- voila fallback, plain python, errors ------------------------------------------------------------


def test_outputs_only_notebook_falls_back_to_voila():
    code = (
        PIP.format("matplotlib")
        + "get_ipython().run_line_magic('matplotlib', 'inline')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    )
    rt, found = choose(code)
    spec = rt.launch(found)
    assert rt.name == "voila"
    assert "no web framework and no server of its own" in found.evidence[0]
    assert spec.entry == "app.ipynb"
    assert spec.command[:2] == ["voila", "app.ipynb"]
    assert set(spec.packages) >= {"voila", "ipykernel", "ipywidgets"}


def test_python_that_serves_on_its_own():
    code = "import os, http.server, socketserver\nwith socketserver.TCPServer(('', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler) as s:\n    s.serve_forever()\n"
    rt, found = choose(code)
    spec = rt.launch(found)
    assert rt.name == "python"
    assert spec.command == ["python", "app.py"] and spec.env["PORT"] == str(CONTAINER_PORT)
    assert spec.probe.kind == "tcp"


def test_ambiguity_stops_with_the_exact_flags():
    code = "import gradio as gr\nimport streamlit as st\nst.title('x')\ndemo = gr.Blocks()\n"
    with pytest.raises(UsageError) as info:
        choose(code)
    assert info.value.fix == "say which one serves the app: pass --framework gradio or --framework streamlit"
    assert "imports gradio" in info.value.message and "imports streamlit" in info.value.message


def test_undetectable_says_what_was_considered_and_why():
    with pytest.raises(UsageError) as info:
        choose("import bottle\n@bottle.route('/')\ndef index():\n    return 'hi'\n")
    message = info.value.message
    assert "imports bottle" in message
    for name in ALL_FRAMEWORKS:
        if name != "voila":
            assert f"{name}: " in message
    assert "gradio: no `import gradio`" in message
    assert "--framework python" in info.value.fix


def test_framework_not_allowed_by_n2a_yaml_is_refused_by_name():
    with pytest.raises(PolicyError) as info:
        choose(GRADIO_GUARDED, allowed=["streamlit", "dash"])
    assert "'gradio' is not allowed" in info.value.message
    assert "streamlit, dash" in info.value.message
    with pytest.raises(PolicyError):
        choose("import streamlit as st\nst.title('x')\n", framework="panel", allowed=["streamlit"])
    with pytest.raises(PolicyError) as info:  # the voila fallback is a framework like any other
        choose("print(1)\n", allowed=["gradio"])
    assert "'voila'" in info.value.message


def test_explicit_framework_keeps_the_evidence_or_says_so():
    rt, found = choose(GRADIO_GUARDED, framework="gradio")
    assert found.evidence[0] == "chosen with --framework gradio" and found.app_object == "ui"
    rt, found = choose("print('hello')\n", framework="python")
    assert rt.name == "python"
    assert found.evidence == [
        "chosen with --framework python",
        "not detected: no server of its own (http.server, socketserver, aiohttp, sockets ...)",
    ]


def test_syntax_error_is_a_usage_error_and_top_level_await_is_fine():
    with pytest.raises(UsageError) as info:
        choose("def broken(:\n")
    assert "line 1" in info.value.message
    rt, _ = choose("import asyncio\nimport streamlit as st\nawait asyncio.sleep(0)\nst.write(1)\n")
    assert rt.name == "streamlit"


# -- launch specs ------------------------------------------------------------------------------------

ONE_PER_FRAMEWORK = {
    "gradio": "import gradio as gr\ndemo = gr.Blocks()\n",
    "streamlit": "import streamlit as st\nst.write(1)\n",
    "dash": "import dash\napp = dash.Dash()\n",
    "panel": "import panel as pn\npn.Column().servable()\n",
    "bokeh": "from bokeh.plotting import figure, show\nshow(figure())\n",
    "voila": "import ipywidgets as w\nw.IntSlider()\n",
    "shiny": "from shiny.express import ui\n",
    "solara": "import solara\n@solara.component\ndef Page():\n    pass\n",
    "flask": "import flask\napp = flask.Flask(__name__)\n",
    "fastapi": "import fastapi\napp = fastapi.FastAPI()\n",
    "python": "import http.server\nhttp.server.HTTPServer(('', 8000), None).serve_forever()\n",
}


@pytest.mark.parametrize("name", ALL_FRAMEWORKS)
def test_launch_spec_serves_on_the_given_port_with_valid_launchers(name):
    rt, found = choose(ONE_PER_FRAMEWORK[name])
    assert rt.name == name
    spec = rt.launch(found, port=9123)
    assert spec.framework == name and spec.port == 9123
    flat = " ".join(spec.command) + " " + " ".join(spec.env.values())
    assert "9123" in flat and str(CONTAINER_PORT) not in flat
    assert spec.startup_seconds >= 30
    for filename, text in spec.files.items():
        assert filename.startswith("n2a_") and filename.endswith(".py")
        compile(text, filename, "exec")  # launchers ship as source: they must at least parse
    referenced = [a for a in spec.command if a.startswith("n2a_")]
    for arg in referenced:
        assert arg.split(":")[0].removesuffix(".py") + ".py" in spec.files


@pytest.mark.parametrize("name", ["voila", "panel", "bokeh"])
def test_probes_never_touch_the_app_page(name):
    """Every GET of their app page starts a kernel or session running the user's code."""
    rt, found = choose(ONE_PER_FRAMEWORK[name])
    spec = rt.launch(found)
    app_pages = {"/", "/app", "/voila/render/app.ipynb"} | {f"/{f.removesuffix('.py')}" for f in spec.files}
    assert spec.probe.kind == "http" and spec.probe.path not in app_pages
    assert spec.probe.path in {"/voila/static/voila.js", "/liveness", "/n2a_bokeh/metadata"}


def test_example_notebooks_are_detected_as_their_framework():
    from n2a_gitops.notebook import convert as notebook

    for name in ALL_FRAMEWORKS:
        converted = notebook.convert(ROOT / "examples" / f"{name}_hello.ipynb")
        rt, found = choose(converted.source)
        assert rt.name == name, (name, found.evidence)


# -- any name for the app object (property) ------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and n not in {"gr", "dash", "Dash", "Flask", "FastAPI", "App", "ui", "print"}
)


@settings(max_examples=60, deadline=None)
@given(name=names, kind=st.sampled_from(["gradio", "dash", "flask", "fastapi"]))
def test_app_object_with_any_name_is_found(name, kind):
    ctor = {
        "gradio": "import gradio as gr\n{n} = gr.Blocks()\n{n}.launch()\n",
        "dash": "from dash import Dash\n{n} = Dash(__name__)\n{n}.run()\n",
        "flask": "from flask import Flask\n{n} = Flask(__name__)\n",
        "fastapi": "from fastapi import FastAPI\n{n} = FastAPI()\n",
    }[kind]
    code = ctor.format(n=name)
    ast.parse(code)
    rt, found = choose(code)
    assert (rt.name, found.app_object) == (kind, name)


def test_evidence_names_the_code_cell_of_a_converted_notebook():
    from n2a_gitops.notebook import convert as notebook

    converted = notebook.convert(ROOT / "examples" / "gradio_hello.ipynb")
    _, found = choose(converted.source)
    # Code cells: 1 `!pip install`, 2 imports, 3 the Blocks, 4 the guarded launch.
    assert found.evidence[0].startswith("imports gradio (code cell 2, line 1, app.py line ")
    assert "(code cell 4, line 2, app.py line " in found.evidence[-1]
    # The map conversion made says the same as the script's `# In[K]:` markers.
    assert runtimes.choose(converted.source, cellmap=converted.cellmap)[1].evidence == found.evidence


@pytest.mark.parametrize(
    "code",
    [
        "from aiohttp import web\napp = web.Application()\nweb.run_app(app, port=int(__import__('os').environ['PORT']))\n",
        "import socketserver, http.server\nsocketserver.TCPServer(('', 8000), http.server.SimpleHTTPRequestHandler).serve_forever()\n",
        "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8000))\ns.listen()\n",
        "import tornado.web, tornado.ioloop\napp = tornado.web.Application([])\napp.listen(8888)\ntornado.ioloop.IOLoop.current().start()\n",
    ],
)
def test_code_that_serves_on_its_own_is_plain_python(code):
    rt, found = choose(code)
    assert rt.name == "python" and found.strong
    assert any(e.startswith("serves on its own with") for e in found.evidence)


def test_plain_python_with_a_hard_coded_port_is_told_to_read_port():
    rt, found = choose("from aiohttp import web\napp = web.Application()\nweb.run_app(app, port=8081)\n")
    assert rt.name == "python"
    assert "binds port 8081 itself: read int(os.environ['PORT'])" in found.evidence[-1]
